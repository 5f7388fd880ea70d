import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every correo metric is named correo_*, so dashboards and alerts can select them by prefix. */
export type MetricName = `correo_${string}`;

interface MetricOptions<L extends string> {
  name: MetricName;
  help: string;
  labelNames?: readonly L[];
}

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'correo_' });

// Declaring the same metric twice (two adapter instances, or a module evaluated by two services in the
// all-in-one) returns the first declaration instead of prom-client's "already registered" error.
function declare<M>(kind: abstract new (...args: never[]) => M, name: MetricName, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof kind)) throw new Error(`metric ${name} is already declared as another type`);
  return existing;
}

function counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
  return declare(Counter, options.name, () => new Counter<L>({ ...options, registers: [registry] }));
}

function gauge<L extends string = never>(
  options: MetricOptions<L> & {
    /** Sets the gauge's values when the registry is read (a scrape): for counts kept elsewhere. */
    collect?: (this: Gauge<L>) => void | Promise<void>;
  },
): Gauge<L> {
  return declare(Gauge, options.name, () => new Gauge<L>({ ...options, registers: [registry] }));
}

function histogram<L extends string = never>(
  options: MetricOptions<L> & { buckets?: number[] },
): Histogram<L> {
  return declare(Histogram, options.name, () => new Histogram<L>({ ...options, registers: [registry] }));
}

/** The one Prometheus registry of the process, with default process metrics, and typed declarations. */
export const metrics = { registry, counter, gauge, histogram };

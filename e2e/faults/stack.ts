import { loadTlsMaterial } from '@correo/tls';
import {
  eventually,
  freePorts,
  makeDataDir,
  removeDataDir,
  serviceProcessEnv,
  serviceScript,
  startServiceProcess,
  type ServiceName,
  type ServiceProcess,
} from '@correo/testkit';

/** One pod of a service: its own process on ports of its own, kept across restarts. */
export interface Instance {
  /** "smtp-ingress#1". */
  name: string;
  service: ServiceName;
  ports: Record<string, number>;
  /** The running process; replaced by restart(). */
  current: ServiceProcess;
  /** Every process this instance has had, the killed ones too (their logs are read at the end). */
  history: ServiceProcess[];
}

export interface FaultStack {
  instances: Instance[];
  byService(service: ServiceName): Instance[];
  caFile: string;
  /**
   * SIGKILL (as an OOM kill or a node loss), then start it again on the same ports, as a kubelet
   * restarts a pod; a start that fails (a backend still down) is tried again. Resolves when the
   * new process answers /readyz with 200.
   */
  kill(instance: Instance): Promise<void>;
  restart(instance: Instance): Promise<void>;
  /** Log lines of every process so far whose msg is `msg`, with the instance name. */
  logged(msg: string): { instance: string; line: Record<string, unknown> }[];
  stop(): Promise<void>;
}

/** The services of the run and how many pods of each (two where the service scales out). */
export const TOPOLOGY: [ServiceName, number][] = [
  ['smtp-ingress', 2],
  ['mda', 2],
  ['mta-relay', 2],
  ['imap-gateway', 2],
  ['pop3-gateway', 1],
];

/** The listener ports each service's pod names, so that a restarted pod listens where it did. */
const PORT_VARIABLES: Partial<Record<ServiceName, string[]>> = {
  'smtp-ingress': ['SMTP_MX_PORT', 'SMTP_SUBMISSION_PORT', 'SMTP_SUBMISSIONS_PORT'],
  'imap-gateway': ['IMAP_PORT', 'IMAPS_PORT'],
  'pop3-gateway': ['POP3_PORT', 'POP3S_PORT'],
};

export async function startFaultStack(env: Record<string, string>): Promise<FaultStack> {
  const dataDir = await makeDataDir('correo-faults-');
  await loadTlsMaterial({ dataDir, hostname: 'localhost' });
  const common = serviceProcessEnv(dataDir, env);
  const instances: Instance[] = [];
  let stopping = false;

  const launch = async (instance: Instance): Promise<ServiceProcess> => {
    const processEnv = {
      ...common,
      ...Object.fromEntries(Object.entries(instance.ports).map(([name, port]) => [name, String(port)])),
      OTEL_SERVICE_NAME: `correo-${instance.name.replace('#', '-')}`,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const started = await startServiceProcess(serviceScript(instance.service), processEnv, 120_000);
        instance.history.push(started);
        return started;
      } catch (error) {
        if (stopping || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 5000)));
      }
    }
  };
  const ready = (process: ServiceProcess, name: string) =>
    eventually(
      `${name} to be ready`,
      async () => (await process.readyz().catch(() => 0)) === 200,
      300_000,
      200,
    );

  try {
    for (const [service, count] of TOPOLOGY) {
      for (let i = 1; i <= count; i++) {
        const names = [...(PORT_VARIABLES[service] ?? []), 'METRICS_PORT'];
        const ports = await freePorts(names.length);
        instances.push({
          name: `${service}#${i}`,
          service,
          ports: Object.fromEntries(names.map((name, j) => [name, ports[j]!])),
          current: undefined as unknown as ServiceProcess,
          history: [],
        });
      }
    }
    // Three at a time: nine TypeScript processes starting at once on a busy 2-core machine time out.
    for (let i = 0; i < instances.length; i += 3) {
      await Promise.all(
        instances.slice(i, i + 3).map(async (instance) => {
          instance.current = await launch(instance);
          await ready(instance.current, instance.name);
        }),
      );
    }
  } catch (error) {
    stopping = true;
    for (const instance of instances) for (const p of instance.history) await p.process.stop('SIGKILL');
    await removeDataDir(dataDir);
    throw error;
  }

  return {
    instances,
    byService: (service) => instances.filter((instance) => instance.service === service),
    caFile: `${dataDir}/tls/cert.pem`,
    async kill(instance) {
      await instance.current.process.stop('SIGKILL');
    },
    async restart(instance) {
      instance.current = await launch(instance);
      await ready(instance.current, instance.name);
    },
    logged(msg) {
      return instances.flatMap((instance) =>
        instance.history.flatMap((process) =>
          process.logged(msg).map((line) => ({ instance: instance.name, line })),
        ),
      );
    },
    async stop() {
      stopping = true;
      await Promise.all(
        instances.flatMap((instance) =>
          instance.history.map(async ({ process }) => {
            if (process.child.exitCode !== null || process.child.signalCode !== null) return;
            process.child.kill('SIGTERM');
            await process.exitWithin(30_000).catch(() => process.stop('SIGKILL'));
          }),
        ),
      );
      await removeDataDir(dataDir);
    },
  };
}

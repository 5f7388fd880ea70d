import { loadTlsMaterial } from '@correo/tls';
import {
  freePorts,
  makeDataDir,
  removeDataDir,
  serviceProcessEnv,
  serviceScript,
  startReadyServiceProcess,
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
   * SIGKILL (as an OOM kill or a node loss).
   */
  kill(instance: Instance): Promise<void>;
  /**
   * Starts the instance again on the same ports, as a kubelet restarts a pod; a start that fails
   * (a backend still down) is tried again. Resolves when the new process answers /readyz with 200;
   * rejects (naming the pod, its exit and its log) when it is not ready within the start bound.
   */
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

/**
 * How long one start of a pod may take until /readyz answers 200 (FAULTS_START_TIMEOUT, seconds;
 * 60 by default: a pod starts in 3-55 s on the busy shared machine). A start still not ready is
 * killed and tried again, all the tries of one (re)start within three times that; then the run
 * fails with the pod's name, exit and log instead of waiting (seed 113 sat 14 minutes in its setup).
 */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.FAULTS_START_TIMEOUT || 60);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new Error(`FAULTS_START_TIMEOUT: not a number of seconds`);
  return seconds * 1000;
}

/** The ports of a pod, fresh ones from the OS. */
async function pickPorts(service: ServiceName): Promise<Record<string, number>> {
  const names = [...(PORT_VARIABLES[service] ?? []), 'METRICS_PORT'];
  const ports = await freePorts(names.length);
  return Object.fromEntries(names.map((name, j) => [name, ports[j]!]));
}

export async function startFaultStack(
  env: Record<string, string>,
  timeoutMs = startTimeoutMs(),
): Promise<FaultStack> {
  const dataDir = await makeDataDir('correo-faults-');
  await loadTlsMaterial({ dataDir, hostname: 'localhost' });
  const common = serviceProcessEnv(dataDir, env);
  const instances: Instance[] = [];
  let stopping = false;

  // Every start is bounded (startReadyServiceProcess kills a process not ready in time), and so are
  // the tries of one start together: nothing here can wait for ever.
  const launch = async (instance: Instance): Promise<ServiceProcess> => {
    const giveUpAt = Date.now() + 3 * timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const processEnv = {
        ...common,
        ...Object.fromEntries(Object.entries(instance.ports).map(([name, port]) => [name, String(port)])),
        OTEL_SERVICE_NAME: `correo-${instance.name.replace('#', '-')}`,
      };
      try {
        const started = await startReadyServiceProcess(serviceScript(instance.service), processEnv, {
          name: instance.name,
          timeoutMs: Math.max(1000, Math.min(timeoutMs, giveUpAt - Date.now())),
        });
        instance.history.push(started);
        return started;
      } catch (error) {
        if (stopping || Date.now() >= giveUpAt) throw error;
        // Ports picked free at setup may be taken meanwhile by another program on the machine (a
        // shared one): a pod that never ran yet moves to fresh ones; a restart keeps its own.
        if (instance.history.length === 0 && /EADDRINUSE/.test((error as Error).message))
          instance.ports = await pickPorts(instance.service);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * attempt, 5000)));
      }
    }
  };

  try {
    for (const [service, count] of TOPOLOGY) {
      for (let i = 1; i <= count; i++) {
        instances.push({
          name: `${service}#${i}`,
          service,
          ports: await pickPorts(service),
          current: undefined as unknown as ServiceProcess,
          history: [],
        });
      }
    }
    // Three at a time: nine TypeScript processes starting at once on a busy 2-core machine time out.
    // allSettled: the batch's other starts have ended (ready or killed) before the stack is torn down.
    for (let i = 0; i < instances.length; i += 3) {
      const batch = await Promise.allSettled(
        instances.slice(i, i + 3).map(async (instance) => {
          instance.current = await launch(instance);
        }),
      );
      const failed = batch.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
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

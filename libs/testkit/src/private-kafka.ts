import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePorts } from './free-port.js';

const run = promisify(execFile);
const KAFKA_SH = fileURLToPath(new URL('../../../scripts/backends/kafka.sh', import.meta.url));

/**
 * A Kafka broker of one test's own (single-node KRaft, as scripts/backends/kafka.sh starts the shared
 * one, through the same script), on its own ports and data dir: tests that crash the bus never touch
 * the broker everyone else uses. The data stays across kill() and resume().
 */
export interface PrivateKafka {
  brokers: string[];
  /** SIGKILL of the broker: no controlled shutdown, as in a node crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it registered. */
  resume(): Promise<void>;
  /** Stops it (SIGTERM) and removes its data. */
  close(): Promise<void>;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dir = await mkdtemp('/var/tmp/correo-private-kafka-');
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const env = {
    ...process.env,
    CORREO_BACKENDS_DIR: dir,
    CORREO_KAFKA_PORT: String(port),
    CORREO_KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  const script = async (command: 'start' | 'resume' | 'kill' | 'stop') => {
    try {
      await run('bash', [KAFKA_SH, command], { env, timeout: 240_000 });
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`kafka.sh ${command} failed: ${stderr ?? (error as Error).message}`, { cause: error });
    }
  };
  try {
    await script('start');
  } catch (error) {
    await script('stop').catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    brokers: [`127.0.0.1:${port}`],
    kill: () => script('kill'),
    resume: () => script('resume'),
    async close() {
      await script('stop').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

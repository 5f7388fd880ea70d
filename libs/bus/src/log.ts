/** Where the adapters report trouble they recover from (lost connections, broker warnings). */
export type BusLog = (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** One JSON line on stderr, shaped like the services' pino lines, until a service passes its logger. */
export const stderrBusLog: BusLog = (level, message, fields = {}) => {
  process.stderr.write(
    JSON.stringify({ level, time: Date.now(), component: 'bus', msg: message, ...fields }) + '\n',
  );
};

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

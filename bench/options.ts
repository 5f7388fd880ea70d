/** A benchmark option: `--name=value` on the command line, else BENCH_NAME in the environment, else the default. */
export function option(name: string, fallback: string): string {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return flag?.slice(name.length + 3) ?? process.env[`BENCH_${name.toUpperCase()}`] ?? fallback;
}

/**
 * The SMTP rate limits a load generator on one loopback address would hit at once (per address,
 * per /24 and per account, per minute and per hour; docs/configuration.md): a benchmark measures the
 * mail path, not the limits, so it turns them off. Sessions at once per address stay capped by the
 * caller (SMTP_MAX_CONNECTIONS_PER_IP).
 */
export const SMTP_LIMITS_OFF: Record<string, string> = {
  SMTP_CONNECTIONS_PER_IP_PER_MINUTE: '0',
  SMTP_CONNECTIONS_PER_IP_PER_HOUR: '0',
  SMTP_CONNECTIONS_PER_BLOCK_PER_MINUTE: '0',
  SMTP_CONNECTIONS_PER_BLOCK_PER_HOUR: '0',
  SMTP_MESSAGES_PER_IP_PER_MINUTE: '0',
  SMTP_MESSAGES_PER_IP_PER_HOUR: '0',
  SMTP_MESSAGES_PER_BLOCK_PER_MINUTE: '0',
  SMTP_MESSAGES_PER_BLOCK_PER_HOUR: '0',
  SMTP_RECIPIENTS_PER_ACCOUNT_PER_HOUR: '0',
};

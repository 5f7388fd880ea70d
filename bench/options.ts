/** A benchmark option: `--name=value` on the command line, else BENCH_NAME in the environment, else the default. */
export function option(name: string, fallback: string): string {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return flag?.slice(name.length + 3) ?? process.env[`BENCH_${name.toUpperCase()}`] ?? fallback;
}

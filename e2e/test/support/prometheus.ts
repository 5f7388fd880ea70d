import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, makeDataDir, removeDataDir } from '@correo/testkit';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A scrape target: what to scrape, and the `pod` label the dashboards group by. */
export interface ScrapeTarget {
  address: string;
  pod: string;
}

export interface TestPrometheus {
  url: string;
  /** An instant query's result vector (matrix/scalar results too, as their series). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Resolves once every target was scraped successfully at least `times` times since start. */
  scraped(times: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Debian's prometheus (the package scripts/promtool.sh installs) as a private server: its own
 * data dir and loopback port, scraping `targets` every second.
 */
export async function startPrometheus(targets: ScrapeTarget[]): Promise<TestPrometheus> {
  execFileSync('bash', ['scripts/promtool.sh'], { cwd: ROOT, stdio: 'ignore' });
  const binary = execFileSync('bash', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  const dir = await makeDataDir('correo-prometheus-');
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  const staticConfigs = targets
    .map((t) => `      - targets: ['${t.address}']\n        labels: { pod: '${t.pod}' }`)
    .join('\n');
  await writeFile(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: correo\n    static_configs:\n${staticConfigs}\n`,
  );
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8000)));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await removeDataDir(dir);
  };
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  try {
    await eventually('Prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
      const response = await fetch(`${url}/-/ready`);
      await response.arrayBuffer();
      return response.ok;
    });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: unknown }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === 'scalar') {
        return [{ metric: {}, value: data.result as [number, string] }];
      }
      return data.result as { metric: Record<string, string>; value: [number, string] }[];
    },
    async scraped(times) {
      await eventually(
        `${times} successful scrapes of every target`,
        async () => {
          const up = await api<{ result: { value: [number, string] }[] }>(
            `/api/v1/query?query=${encodeURIComponent(`min(count_over_time(up[10m]) * (up == 1))`)}`,
          );
          return Number(up.result[0]?.value[1] ?? 0) >= times;
        },
        120_000,
        250,
      );
    },
    close,
  };
}

// `make fuzz`: every fuzz target (`libs|services/*/test/fuzz/*.fuzz.ts`) for FUZZ_SECONDS each, from a
// fresh seed, keeping new corpus entries and findings under .fuzz/; the report replaces the last one
// in docs/fuzzing.md. Exits 1 on any finding. The bounded run of the same targets is in `make test`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeFindings, runFuzz, type FuzzReport } from '@correo/testkit/fuzz';

const ROOT = join(import.meta.dirname, '..');
const seconds = Number(process.env.FUZZ_SECONDS ?? '60');
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const only = process.env.FUZZ_TARGETS?.split(',').filter(Boolean);
const saveDir = join(ROOT, '.fuzz');
const REPORT = join(ROOT, 'docs/fuzzing.md');
const START = '<!-- fuzz-report:start -->';
const END = '<!-- fuzz-report:end -->';

function targets(): string[] {
  const found: string[] = [];
  for (const group of ['libs', 'services']) {
    for (const pkg of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, pkg, 'test/fuzz');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir)) {
        if (file.endsWith('.fuzz.ts')) found.push(join(dir, file));
      }
    }
  }
  return found.sort();
}

const reports: { path: string; report: FuzzReport }[] = [];
for (const path of targets()) {
  const name = path
    .split('/')
    .pop()!
    .replace(/\.fuzz\.ts$/, '');
  if (only && !only.includes(name)) continue;
  process.stdout.write(`${name}: ${seconds} s ... `);
  const report = await runFuzz({ target: pathToFileURL(path), seconds, seed, saveDir });
  reports.push({ path: path.slice(ROOT.length + 1), report });
  console.log(
    `${report.executions} executions, corpus ${report.corpusSize}, ${report.findings.length} findings`,
  );
  if (report.findings.length > 0) console.log(describeFindings(report));
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const count = (kind: string) =>
  reports.reduce((n, r) => n + r.report.findings.filter((f) => f.kind === kind).length, 0);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const rows = reports.map(({ path, report: r }) =>
  [
    `\`${r.name}\``,
    `\`${path}\``,
    r.executions.toLocaleString('en-US'),
    Math.round(r.executions / r.seconds).toLocaleString('en-US'),
    `${r.seeds} + ${r.corpusSize - r.seeds}`,
    r.features.toLocaleString('en-US'),
    `${r.maxMsPerInput.toFixed(0)} ms`,
    `${mb(r.maxHeapGrowthBytes)} MB`,
    String(r.findings.length),
  ].join(' | '),
);
const report = [
  START,
  '## Last report',
  '',
  `\`make fuzz\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}: ` +
    `FUZZ_SECONDS=${seconds} per target, FUZZ_SEED=${seed}.`,
  '',
  '| target | file | executions | per second | corpus (seeds + new) | coverage features | slowest input | largest heap growth | findings |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((row) => `| ${row} |`),
  '',
  `Findings: ${count('crash')} crashes, ${count('hang')} hangs, ${count('out-of-memory')} out-of-memory, ` +
    `${count('allocation')} unbounded allocations.`,
  END,
].join('\n');

if (!only) {
  const doc = readFileSync(REPORT, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start === -1 || end === -1) throw new Error(`${REPORT} lacks the ${START} ... ${END} markers`);
  writeFileSync(REPORT, doc.slice(0, start) + report + doc.slice(end + END.length));
  console.log(`report written to docs/fuzzing.md`);
} else {
  console.log(report);
}
process.exitCode = reports.some((r) => r.report.findings.length > 0) ? 1 : 0;

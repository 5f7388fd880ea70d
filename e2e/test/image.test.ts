import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runtime: Node 24 LTS everywhere. There is no Docker engine here to build the image, so the
// Dockerfile is read as Docker reads it (one instruction a line, stages from FROM to FROM) and
// what the issue asks of the image is checked instruction by instruction; compose.test.ts and
// helm.test.ts check that both run it with a read-only root filesystem.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions per stage (continuation lines joined, comments dropped). */
function stages(): Instruction[][] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replaceAll(/\\\n/g, ' ');
  const result: Instruction[][] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'FROM') result.push([]);
    result.at(-1)!.push(instruction);
  }
  return result;
}

test('make test runs on Node 24 (scripts/node.sh), and the packages require it', () => {
  assert.equal(process.versions.node.split('.')[0], '24', `running on ${process.version}`);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    engines?: { node?: string };
  };
  assert.equal(manifest.engines?.node, '>=24');
});

test('the image: node:24 slim, multi-stage, runs as a non-root user, tini forwards signals', () => {
  const all = stages();
  assert.ok(all.length >= 2, 'multi-stage');
  for (const stage of all)
    assert.match(stage[0]!.args, /^node:24(\.\d+)*-[a-z]+-slim\b/, 'every stage on node:24 slim');
  const final = all.at(-1)!;
  const last = (op: string) => final.filter((i) => i.op === op).at(-1)?.args;
  // The final stage installs nothing from npm and carries no build: it copies the first stage's result.
  assert.ok(!final.some((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args)), 'no npm in the final stage');
  assert.ok(final.some((i) => i.op === 'COPY' && i.args.startsWith('--from=')));
  const user = last('USER');
  assert.ok(user && !['root', '0'].includes(user), `runs as ${user}`);
  assert.match(last('ENTRYPOINT') ?? '', /^\["\/usr\/bin\/tini", "--"\]$/, 'tini is PID 1');
  assert.ok(
    final.some((i) => i.op === 'RUN' && /\btini\b/.test(i.args)),
    'tini is installed',
  );
  // Only /tmp and the data directory are written: a read-only root filesystem works.
  assert.equal(last('VOLUME'), '["/tmp", "/var/lib/correo"]');
});

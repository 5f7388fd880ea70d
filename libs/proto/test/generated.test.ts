import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const committedGen = join(repoRoot, 'libs/proto/src/gen');

async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Map<string, Buffer>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

test('the committed generated code is exactly what `make proto` produces', async () => {
  const out = await mkdtemp(join(tmpdir(), 'correo-proto-'));
  try {
    const bin = join(repoRoot, 'node_modules/.bin');
    // Same template as `make proto`, only written under a temp base directory.
    await run(join(bin, 'buf'), ['generate', '--output', out], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
    });
    const fresh = await filesUnder(join(out, 'libs/proto/src/gen'));
    const committed = await filesUnder(committedGen);

    assert.ok(fresh.size > 0, 'buf generated nothing');
    assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), 'run `make proto`');
    for (const [name, bytes] of fresh) {
      assert.ok(
        bytes.equals(committed.get(name)!),
        `${name} differs from a fresh generation: run \`make proto\``,
      );
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

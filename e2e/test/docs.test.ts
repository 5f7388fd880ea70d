import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configVariableNames } from '@correo/config';
import { serviceSections } from '@correo/all-in-one';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('docs/configuration.md documents every variable of every service', () => {
  const doc = readFileSync(`${ROOT}/docs/configuration.md`, 'utf8');
  const undocumented = configVariableNames(serviceSections).filter((name) => !doc.includes(`\`${name}\``));
  assert.deepEqual(undocumented, []);
});

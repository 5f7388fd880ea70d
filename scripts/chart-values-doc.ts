// Writes charts/correo/VALUES.md from charts/correo/values.schema.json (descriptions, types) and
// values.yaml (defaults): `node --import tsx scripts/chart-values-doc.ts`. e2e/test/helm.test.ts
// fails when the committed file differs from what this prints, so the two cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const CHART_DIR = fileURLToPath(new URL('../charts/correo', import.meta.url));
export const VALUES_DOC = join(CHART_DIR, 'VALUES.md');

interface Schema {
  type?: string;
  description?: string;
  enum?: unknown[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
}

function typeOf(schema: Schema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (schema.oneOf) return schema.oneOf.map(typeOf).join(' \\| ');
  if (schema.type === 'array' && schema.items) return `${typeOf(schema.items)}[]`;
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object')
    return `map of ${typeOf(schema.additionalProperties)}`;
  return schema.type ?? 'any';
}

function defaultOf(values: unknown, path: string[]): string {
  let value: unknown = values;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``.replaceAll('|', '\\|');
}

/** One row per value: objects with named properties are descended into, everything else is a leaf. */
function* rows(schema: Schema, values: unknown, path: string[]): Generator<string> {
  const properties = schema.properties ?? {};
  const described = path.length > 0 && schema.description;
  if (Object.keys(properties).length === 0 || schema.additionalProperties === true) {
    yield `| \`${path.join('.')}\` | ${typeOf(schema)} | ${defaultOf(values, path)} | ${schema.description ?? ''} |`;
    return;
  }
  if (described) yield `| \`${path.join('.')}\` | object | | ${schema.description} |`;
  for (const [key, child] of Object.entries(properties)) yield* rows(child, values, [...path, key]);
}

export function valuesDoc(): string {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema;
  const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as unknown;
  return [
    '# correo chart values',
    '',
    'Generated from `values.schema.json` and `values.yaml` by `scripts/chart-values-doc.ts`; do not edit.',
    'Helm rejects a values file that does not match the schema (unknown keys included).',
    '',
    '| Value | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows(schema, values, []),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(VALUES_DOC, valuesDoc());

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The migrations shipped with this package. */
export const defaultMigrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  /** Hex SHA-256 of the file's bytes: an applied migration must never change. */
  checksum: string;
}

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads NNNN_name.sql files in version order; anything else in the directory is an error. */
export async function readMigrationFiles(dir = defaultMigrationsDir): Promise<MigrationFile[]> {
  const migrations: MigrationFile[] = [];
  for (const fileName of await readdir(dir)) {
    const match = fileNamePattern.exec(fileName);
    if (!match) {
      throw new Error(`${join(dir, fileName)}: migration files must be named NNNN_name.sql`);
    }
    const bytes = await readFile(join(dir, fileName));
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations share version ${migrations[i]!.version} in ${dir}`);
    }
  }
  return migrations;
}

import { migrate } from '../migrate.js';

// Usage: DATABASE_URL=postgres://... node --import tsx libs/store/src/cli/migrate.ts
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('DATABASE_URL is not set');
  process.exit(2);
}

try {
  const { applied } = await migrate(databaseUrl);
  if (applied.length === 0) {
    console.log('schema is up to date');
  }
  for (const { version, name } of applied) {
    console.log(`applied ${String(version).padStart(4, '0')}_${name}`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

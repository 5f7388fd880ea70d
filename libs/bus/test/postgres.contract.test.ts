import { after } from 'node:test';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import { createPostgresBus } from '../src/index.js';
import { busContract } from './contract.js';

let database: FreshDatabase | undefined;
after(async () => {
  await database?.drop();
});

busContract(
  'postgres',
  async () => {
    database ??= await freshDatabase();
    return createPostgresBus({ connectionString: database.url, pollIntervalMs: 200 });
  },
  async () => createPostgresBus({ connectionString: 'postgres://correo@127.0.0.1:1/correo' }),
);

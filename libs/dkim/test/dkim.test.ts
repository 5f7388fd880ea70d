import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimVerify } from 'mailauth';
import { createProvisioning } from '@correo/directory';
import { createPool, migrate } from '@correo/store';
import type { Pool } from '@correo/store';
import { freshDatabase } from '@correo/testkit';
import type { FreshDatabase } from '@correo/testkit';
import {
  activeSigningKey,
  deleteDkimKey,
  dkimSignatureHeader,
  listDkimKeys,
  rotateDkimKey,
} from '../src/index.js';
import type { DkimKey } from '../src/index.js';

let db: FreshDatabase;
let pool: Pool;
let domainId: string;
let tenantId: string;

before(async () => {
  db = await freshDatabase();
  pool = createPool(db.url);
  await migrate(db.url);
  const provisioning = createProvisioning(pool);
  const tenant = await provisioning.createTenant({ name: 'dkim' });
  tenantId = tenant.id;
  domainId = (await provisioning.createDomain({ name: 'miemail.test', tenantId, verified: true })).id;
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

const message = Buffer.from(
  [
    'From: Yo <yo@miemail.test>',
    'To: el@suemail.test',
    'Subject: signed',
    'Date: Thu, 26 Nov 2026 06:00:00 +0000',
    'Message-ID: <signed@miemail.test>',
    '',
    'hola',
    '',
  ].join('\r\n'),
);

async function verify(raw: Buffer, published: DkimKey[]) {
  const result = await dkimVerify(raw, {
    resolver: async (name: string, type: string) => {
      const key = published.find((k) => k.dnsRecord.name === name);
      if (type !== 'TXT' || !key) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [key.dnsRecord.strings];
    },
  });
  return result.results[0]!;
}

test('rotation keeps exactly one active key, and mail signed with it verifies against its TXT record', async () => {
  assert.equal(await activeSigningKey(pool, 'miemail.test', tenantId), null);
  const first = await rotateDkimKey(pool, domainId);
  const second = await rotateDkimKey(pool, domainId);
  assert.notEqual(first.selector, second.selector);
  const keys = await listDkimKeys(pool, domainId);
  assert.deepEqual(
    keys.map((k) => [k.selector, k.active]),
    [
      [second.selector, true],
      [first.selector, false],
    ],
  );
  assert.match(second.dnsRecord.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
  assert.equal(second.dnsRecord.name, `${second.selector}._domainkey.miemail.test`);
  assert.ok(second.dnsRecord.strings.every((s) => Buffer.byteLength(s) <= 255));
  assert.equal(second.dnsRecord.strings.join(''), second.dnsRecord.value);

  const key = await activeSigningKey(pool, 'MIEMAIL.test', tenantId);
  assert.equal(key?.selector, second.selector);
  // Another tenant never gets this domain's key.
  const other = await createProvisioning(pool).createTenant({ name: 'dkim-other' });
  assert.equal(await activeSigningKey(pool, 'miemail.test', other.id), null);
  const signed = Buffer.concat([Buffer.from(await dkimSignatureHeader(message, key!)), message]);
  const result = await verify(signed, keys);
  assert.equal(result.status.result, 'pass');
  assert.equal(result.signingDomain, 'miemail.test');
  assert.equal(result.selector, second.selector);

  // Verified against the old selector's record, the new signature does not pass.
  const wrong = await verify(signed, [
    { ...first, dnsRecord: { ...first.dnsRecord, name: second.dnsRecord.name } },
  ]);
  assert.notEqual(wrong.status.result, 'pass');
});

test('only an inactive key can be deleted', async () => {
  const keys = await listDkimKeys(pool, domainId);
  const active = keys.find((k) => k.active)!;
  const inactive = keys.find((k) => !k.active)!;
  assert.equal(await deleteDkimKey(pool, domainId, active.id), false);
  assert.equal(await deleteDkimKey(pool, domainId, inactive.id), true);
  assert.deepEqual(
    (await listDkimKeys(pool, domainId)).map((k) => k.id),
    [active.id],
  );
});

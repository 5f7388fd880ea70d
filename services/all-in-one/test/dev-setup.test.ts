import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@correo/config';
import { sections } from '../src/app.js';
import { withEmbeddedDefaults } from '../src/embedded-defaults.js';

const load = (env: Record<string, string>) =>
  loadConfig(withEmbeddedDefaults({ CORREO_DATA_DIR: '/tmp/unused', ...env }), sections);

test('outside a dev setup the all-in-one has no demo account and no plaintext AUTH on loopback', () => {
  const config = load({});
  assert.equal(config.allInOne.dev, false);
  assert.equal(config.allInOne.demo, false);
  assert.equal(config.smtp.allowPlaintextAuthOnLoopback, false);
  assert.equal(config.imap.allowPlaintextAuthOnLoopback, false);
  assert.equal(config.pop3.allowPlaintextAuthOnLoopback, false);
  assert.equal(config.managesieve.allowPlaintextAuthOnLoopback, false);
  assert.equal(config.managesieve.port, 14190);
});

test('CORREO_DEV=true (make dev) turns on the demo account and the loopback allowance', () => {
  const config = load({ CORREO_DEV: 'true' });
  assert.equal(config.allInOne.demo, true);
  assert.equal(config.smtp.allowPlaintextAuthOnLoopback, true);
  assert.equal(config.imap.allowPlaintextAuthOnLoopback, true);
  assert.equal(config.pop3.allowPlaintextAuthOnLoopback, true);
  assert.equal(config.managesieve.allowPlaintextAuthOnLoopback, true);
  // A dev setup may still switch the demo off.
  assert.equal(load({ CORREO_DEV: 'true', CORREO_DEMO: 'false' }).allInOne.demo, false);
});

test('the published example tokens are refused, in every setup', () => {
  for (const env of [{}, { CORREO_DEV: 'true' }] as Record<string, string>[]) {
    assert.throws(
      () => load({ ...env, ADMIN_TOKEN: 'change-me-to-at-least-24-characters' }),
      /ADMIN_TOKEN: expected .*published/,
    );
  }
});

test('the webmail names browsers to the gateways (PROXY v2) from its own loopback address, on Linux', () => {
  const config = load({});
  if (process.platform !== 'linux') {
    assert.equal(config.webmail.proxyProtocol, false);
    return;
  }
  assert.equal(config.webmail.proxyProtocol, true);
  assert.equal(config.webmail.sourceAddress, '127.0.80.81');
  // Nothing else is trusted for PROXY by default: the all-in-one adds exactly that address.
  assert.deepEqual(config.proxy.trustedCidrs, []);
});

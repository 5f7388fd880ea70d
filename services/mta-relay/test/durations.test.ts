import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@correo/config';
import { ConfigError } from '@correo/config';
import { relayConfigSection } from '../src/config.js';
import { parseDuration, parseSchedule, retryDelay } from '../src/durations.js';

test('durations and retry schedules', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('5d'), 432_000_000);
  assert.equal(parseDuration('5'), undefined);
  assert.equal(parseDuration('0s'), undefined);
  assert.deepEqual(parseSchedule('1m, 5m,1h'), [60_000, 300_000, 3_600_000]);
  assert.equal(parseSchedule('1m,soon'), undefined);
  const schedule = [1, 2, 3];
  assert.deepEqual(
    [1, 2, 3, 4, 10].map((n) => retryDelay(schedule, n)),
    [1, 2, 3, 3, 3],
  );
});

test('RELAY_* variables: defaults, and every bad value named in one error', () => {
  const defaults = loadConfig({}, { relay: relayConfigSection }).relay;
  assert.equal(defaults.group, 'mta-relay');
  assert.equal(defaults.outboundTopic, 'mail.outbound');
  assert.equal(defaults.smtpPort, 25);
  assert.equal(defaults.maxLifetimeMs, 5 * 86_400_000);
  assert.equal(defaults.retrySchedule[0], 60_000);
  assert.deepEqual(defaults.dnsServers, []);

  const custom = loadConfig(
    {
      RELAY_DNS_SERVERS: '127.0.0.1:5353, 127.0.0.2',
      RELAY_REQUIRE_TLS_DOMAINS: 'Bank.test,gov.test',
      RELAY_MAX_LIFETIME: '2h',
      RELAY_SMTP_PORT: '2525',
    },
    { relay: relayConfigSection },
  ).relay;
  assert.deepEqual(custom.dnsServers, ['127.0.0.1:5353', '127.0.0.2']);
  assert.deepEqual(custom.requireTlsDomains, ['bank.test', 'gov.test']);
  assert.equal(custom.maxLifetimeMs, 7_200_000);
  assert.equal(custom.smtpPort, 2525);

  assert.throws(
    () =>
      loadConfig(
        { RELAY_MAX_LIFETIME: 'forever', RELAY_RETRY_SCHEDULE: '1m,later' },
        { relay: relayConfigSection },
      ),
    (error: unknown) =>
      error instanceof ConfigError &&
      /RELAY_MAX_LIFETIME/.test(error.message) &&
      /RELAY_RETRY_SCHEDULE/.test(error.message),
  );
});

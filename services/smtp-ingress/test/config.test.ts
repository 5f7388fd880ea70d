import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@correo/config';
import { smtpIngressSection } from '../src/index.js';

describe('SMTP_* configuration', () => {
  test('production defaults', () => {
    const { smtp } = loadConfig({}, { smtp: smtpIngressSection });
    assert.deepEqual(smtp.ports, { mx: 25, submission: 587, submissions: 465 });
    assert.equal(smtp.bindHost, '0.0.0.0');
    assert.equal(smtp.allowPlaintextAuthOnLoopback, false);
    assert.equal(smtp.maxLineLength, 998);
    assert.equal(smtp.maxMessageBytes, 50 * 1024 * 1024);
  });

  test('every bad variable is reported at once, including half a TLS pair', () => {
    assert.throws(
      () =>
        loadConfig(
          { SMTP_MX_PORT: '70000', SMTP_MAX_RECIPIENTS: 'many', SMTP_TLS_CERT_FILE: '/etc/cert.pem' },
          { smtp: smtpIngressSection },
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const name of ['SMTP_MX_PORT', 'SMTP_MAX_RECIPIENTS', 'SMTP_TLS_KEY_FILE']) {
          assert.match(error.message, new RegExp(name));
        }
        return true;
      },
    );
  });

  test('sender checks: on by default with the system resolvers; DNS servers take ip, ip:port and [ipv6]:port', () => {
    const defaults = loadConfig({}, { smtp: smtpIngressSection }).smtp.senderAuthentication;
    assert.equal(defaults.enabled, true);
    assert.equal(defaults.dmarcReject, true);
    assert.deepEqual(defaults.dnsServers, []);
    const { smtp } = loadConfig(
      { SMTP_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.2,[::1]:53', SMTP_DMARC_REJECT: 'false' },
      { smtp: smtpIngressSection },
    );
    assert.deepEqual(smtp.senderAuthentication.dnsServers, ['127.0.0.1:5353', '10.0.0.2', '[::1]:53']);
    assert.equal(smtp.senderAuthentication.dmarcReject, false);
    for (const bad of ['dns.example:53', '127.0.0.1:99999', '[::1']) {
      assert.throws(
        () => loadConfig({ SMTP_DNS_SERVERS: bad }, { smtp: smtpIngressSection }),
        (error: unknown) => error instanceof ConfigError && /SMTP_DNS_SERVERS/.test(error.message),
        bad,
      );
    }
  });
});

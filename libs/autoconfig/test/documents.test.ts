import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@correo/config';
import { runProgram } from '@correo/testkit';
import {
  appleMobileconfig,
  clientSettingsSection,
  mtaStsPolicyId,
  publishedRecords,
  STANDARD_CLIENT_PORTS,
  type ClientSettings,
} from '../src/index.js';

const settings: ClientSettings = {
  hostname: 'mail.provider.test',
  webHostname: 'web.provider.test',
  ...STANDARD_CLIENT_PORTS,
  pop3Port: 0,
  mtaStsMode: 'testing',
  mtaStsMaxAgeSeconds: 86400,
};

test('the .mobileconfig is a plist Apple devices accept: one IMAP account over TLS, no password inside', async () => {
  const profile = appleMobileconfig('alice@example.test', 'Alice <&> Liddell', settings);
  // Python's plistlib is the reader here (the format's reference outside Apple's own tools).
  const script = `
import json, plistlib, sys
p = plistlib.loads(sys.argv[1].encode())
a = p['PayloadContent'][0]
print(json.dumps({'type': p['PayloadType'], 'version': p['PayloadVersion'], 'uuid': p['PayloadUUID'], 'account': a}))
`;
  const result = await runProgram('python3', ['-c', script, profile]);
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as {
    type: string;
    version: number;
    uuid: string;
    account: Record<string, unknown>;
  };
  assert.equal(parsed.type, 'Configuration');
  assert.equal(parsed.version, 1);
  assert.match(parsed.uuid, /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  assert.equal(parsed.account.EmailAccountType, 'EmailTypeIMAP');
  assert.equal(parsed.account.EmailAccountName, 'Alice <&> Liddell');
  assert.equal(parsed.account.IncomingMailServerHostName, 'mail.provider.test');
  assert.equal(parsed.account.IncomingMailServerPortNumber, 993);
  assert.equal(parsed.account.IncomingMailServerUseSSL, true);
  assert.equal(parsed.account.OutgoingMailServerPortNumber, 465);
  assert.equal(parsed.account.IncomingMailServerUsername, 'alice@example.test');
  assert.equal(parsed.account.PayloadType, 'com.apple.mail.managed');
  assert.ok(!('IncomingPassword' in parsed.account));
  // Downloaded again it replaces the installed profile instead of adding a second account.
  assert.equal(appleMobileconfig('alice@example.test', 'Alice <&> Liddell', settings), profile);
  assert.notEqual(appleMobileconfig('bob@example.test', 'Bob', settings), profile);
});

test('the records a domain publishes: MX, RFC 6186 SRV with "." for what is not offered, autoconfig, MTA-STS', () => {
  const records = publishedRecords('example.test', settings);
  const byName = new Map(records.map((r) => [`${r.type} ${r.name}`, r.value]));
  assert.equal(byName.get('MX example.test.'), '10 mail.provider.test.');
  assert.equal(byName.get('SRV _submissions._tcp.example.test.'), '0 1 465 mail.provider.test.');
  assert.equal(byName.get('SRV _submission._tcp.example.test.'), '10 1 587 mail.provider.test.');
  assert.equal(byName.get('SRV _imaps._tcp.example.test.'), '0 1 993 mail.provider.test.');
  assert.equal(byName.get('SRV _pop3._tcp.example.test.'), '0 0 0 .');
  assert.equal(byName.get('CNAME autoconfig.example.test.'), 'web.provider.test.');
  assert.equal(byName.get('SRV _autodiscover._tcp.example.test.'), '0 1 443 web.provider.test.');
  assert.equal(byName.get('CNAME mta-sts.example.test.'), 'web.provider.test.');
  assert.equal(byName.get('TXT _mta-sts.example.test.'), `"v=STSv1; id=${mtaStsPolicyId(settings)}"`);
  assert.match(mtaStsPolicyId(settings), /^[0-9a-f]{20}$/);
  // The id changes exactly when the policy does, so senders fetch the new one.
  assert.notEqual(mtaStsPolicyId({ ...settings, mtaStsMode: 'enforce' }), mtaStsPolicyId(settings));
  assert.equal(mtaStsPolicyId({ ...settings, imapPort: 0 }), mtaStsPolicyId(settings));
});

test('CLIENT_* ports: unset falls back to what the process listens on, set wins, 0 withdraws', () => {
  const config = loadConfig(
    { CLIENT_HOSTNAME: 'mail.example.net', CLIENT_IMAP_PORT: '0', CLIENT_SUBMISSIONS_PORT: '4465' },
    {
      client: clientSettingsSection,
    },
  );
  const fromListeners = config.client({ ...STANDARD_CLIENT_PORTS, imapsPort: 1993, pop3sPort: 1995 });
  assert.equal(fromListeners.hostname, 'mail.example.net');
  assert.equal(fromListeners.webHostname, 'mail.example.net');
  assert.equal(fromListeners.imapsPort, 1993);
  assert.equal(fromListeners.imapPort, 0);
  assert.equal(fromListeners.pop3sPort, 1995);
  assert.equal(fromListeners.submissionsPort, 4465);
  assert.equal(config.client().imapsPort, 993);
  assert.equal(fromListeners.mtaStsMode, 'testing');
});

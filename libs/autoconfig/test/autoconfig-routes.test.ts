import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { runProgram } from '@correo/testkit';
import { autoconfigRoutes, mtaStsPolicy, type ClientSettings } from '../src/index.js';

const settings: ClientSettings = {
  hostname: 'mail.provider.test',
  webHostname: 'web.provider.test',
  imapsPort: 993,
  imapPort: 143,
  pop3sPort: 995,
  pop3Port: 0,
  submissionsPort: 465,
  submissionPort: 587,
  mtaStsMode: 'enforce',
  mtaStsMaxAgeSeconds: 604800,
};

let app: FastifyInstance;
let base: string;

before(async () => {
  app = Fastify();
  await app.register(autoconfigRoutes, {
    settings,
    isServedDomain: async (domain) => domain === 'example.test',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
});

after(() => app.close());

/**
 * Python's urllib is the HTTP client and its own parsers (xml.etree, plistlib) read the answers: what a
 * client library would see, not what our builder thinks it wrote.
 */
async function python(script: string, ...args: string[]): Promise<unknown> {
  const result = await runProgram('python3', ['-c', script, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const FETCH = `
import json, sys, urllib.request, urllib.error
def fetch(url, host=None, data=None, ctype=None):
    req = urllib.request.Request(url, data=data)
    if host: req.add_header('Host', host)
    if ctype: req.add_header('Content-Type', ctype)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers.get('Content-Type'), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get('Content-Type'), e.read()
`;

const THUNDERBIRD = `${FETCH}
import xml.etree.ElementTree as ET
status, ctype, body = fetch(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
out = {'status': status, 'ctype': ctype}
if status == 200:
    root = ET.fromstring(body)
    provider = root.find('emailProvider')
    def server(e):
        return {k: e.find(k).text for k in ('hostname', 'port', 'socketType', 'authentication', 'username')} | {'type': e.get('type')}
    out |= {'version': root.get('version'), 'id': provider.get('id'), 'domain': provider.find('domain').text,
            'incoming': [server(e) for e in provider.findall('incomingServer')],
            'outgoing': [server(e) for e in provider.findall('outgoingServer')]}
else:
    out['body'] = json.loads(body)
print(json.dumps(out))
`;

describe('Thunderbird autoconfig', () => {
  test('describes a served domain by the address in the query: IMAP and POP3 in, submission out, TLS first', async () => {
    const answer = await python(
      THUNDERBIRD,
      `${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40Example.TEST`,
    );
    const login = {
      hostname: 'mail.provider.test',
      authentication: 'password-cleartext',
      username: '%EMAILADDRESS%',
    };
    assert.deepEqual(answer, {
      status: 200,
      ctype: 'application/xml; charset=utf-8',
      version: '1.1',
      id: 'example.test',
      domain: 'example.test',
      incoming: [
        { ...login, type: 'imap', port: '993', socketType: 'SSL' },
        { ...login, type: 'imap', port: '143', socketType: 'STARTTLS' },
        { ...login, type: 'pop3', port: '995', socketType: 'SSL' },
      ],
      outgoing: [
        { ...login, type: 'smtp', port: '465', socketType: 'SSL' },
        { ...login, type: 'smtp', port: '587', socketType: 'STARTTLS' },
      ],
    });
  });

  test('autoconfig.<domain>/mail/config-v1.1.xml takes the domain from the Host header', async () => {
    const answer = (await python(THUNDERBIRD, `${base}/mail/config-v1.1.xml`, 'autoconfig.example.test')) as {
      status: number;
      domain: string;
    };
    assert.equal(answer.status, 200);
    assert.equal(answer.domain, 'example.test');
  });

  test('a domain this deployment does not serve gets a 404 and nothing about the servers', async () => {
    for (const [url, host] of [
      [`${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40gmail.com`, undefined],
      [`${base}/mail/config-v1.1.xml`, 'autoconfig.other.test'],
      [`${base}/mail/config-v1.1.xml`, undefined],
      [`${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=not-an-address`, undefined],
    ] as const) {
      const answer = (await python(THUNDERBIRD, url, ...(host ? [host] : []))) as {
        status: number;
        body: { error: string };
      };
      assert.equal(answer.status, 404, `${url} ${host}`);
      assert.equal(answer.body.error, 'not_found');
    }
  });
});

const AUTODISCOVER = `${FETCH}
import xml.etree.ElementTree as ET
body = sys.argv[2].encode()
status, ctype, answer = fetch(sys.argv[1], data=body, ctype='text/xml')
root = ET.fromstring(answer)
ns = {'r': 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
      'o': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
protocols = [{c.tag.split('}')[1]: c.text for c in p} for p in root.findall('o:Response/o:Account/o:Protocol', ns)]
error = root.find('r:Response/r:Error/r:ErrorCode', ns)
print(json.dumps({'status': status, 'protocols': protocols, 'error': error.text if error is not None else None}))
`;

function autodiscoverRequest(address: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;
}

describe('Outlook autodiscover (POX)', () => {
  test('answers the asked address with every offered protocol, login by full address', async () => {
    const answer = (await python(
      AUTODISCOVER,
      `${base}/autodiscover/autodiscover.xml`,
      autodiscoverRequest('alice@example.test'),
    )) as {
      status: number;
      protocols: Record<string, string>[];
    };
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.protocols.map((p) => [p.Type, p.Server, p.Port, p.LoginName, p.SSL, p.Encryption ?? null]),
      [
        ['IMAP', 'mail.provider.test', '993', 'alice@example.test', 'on', null],
        ['IMAP', 'mail.provider.test', '143', 'alice@example.test', 'on', 'TLS'],
        ['POP3', 'mail.provider.test', '995', 'alice@example.test', 'on', null],
        ['SMTP', 'mail.provider.test', '465', 'alice@example.test', 'on', null],
        ['SMTP', 'mail.provider.test', '587', 'alice@example.test', 'on', 'TLS'],
      ],
    );
  });

  test('the other path spelling works; a foreign address gets the POX error and 404', async () => {
    const served = (await python(
      AUTODISCOVER,
      `${base}/Autodiscover/Autodiscover.xml`,
      autodiscoverRequest('a@example.test'),
    )) as {
      status: number;
    };
    assert.equal(served.status, 200);
    const foreign = (await python(
      AUTODISCOVER,
      `${base}/autodiscover/autodiscover.xml`,
      autodiscoverRequest('a@gmail.com'),
    )) as {
      status: number;
      error: string;
      protocols: unknown[];
    };
    assert.deepEqual([foreign.status, foreign.error, foreign.protocols], [404, '600', []]);
  });

  test('hostile bodies: entity expansion, external entities, garbage and oversize get 4xx, never a crash', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Autodiscover><Request><EMailAddress>&lol4;x@example.test</EMailAddress></Request></Autodiscover>`;
    const external = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>`;
    for (const body of [laughs, external, '<Autodiscover><Request>', 'not xml at all', '']) {
      const response = await fetch(`${base}/autodiscover/autodiscover.xml`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      const text = await response.text();
      assert.ok([400, 404].includes(response.status), `${response.status} for ${body.slice(0, 40)}`);
      assert.doesNotMatch(text, /root:|lollol/);
    }
    const oversize = await fetch(`${base}/autodiscover/autodiscover.xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: autodiscoverRequest(`${'a'.repeat(20_000)}@example.test`),
    });
    assert.equal(oversize.status, 413);
    // The server still answers after all of that.
    const ok = await fetch(`${base}/autodiscover/autodiscover.xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: autodiscoverRequest('alice@example.test'),
    });
    assert.equal(ok.status, 200);
  });
});

describe('MTA-STS policy', () => {
  test('mta-sts.<domain> serves the RFC 8461 policy with CRLF lines; other hosts get 404', async () => {
    const script = `${FETCH}
status, ctype, body = fetch(sys.argv[1], sys.argv[2])
print(json.dumps({'status': status, 'ctype': ctype, 'body': body.decode()}))
`;
    const served = (await python(script, `${base}/.well-known/mta-sts.txt`, 'mta-sts.example.test')) as {
      status: number;
      ctype: string;
      body: string;
    };
    assert.equal(served.status, 200);
    assert.equal(served.ctype, 'text/plain; charset=utf-8');
    assert.equal(
      served.body,
      'version: STSv1\r\nmode: enforce\r\nmx: mail.provider.test\r\nmax_age: 604800\r\n',
    );
    assert.equal(served.body, mtaStsPolicy(settings));
    const foreign = (await python(script, `${base}/.well-known/mta-sts.txt`, 'mta-sts.other.test')) as {
      status: number;
    };
    assert.equal(foreign.status, 404);
  });
});

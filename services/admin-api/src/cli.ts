import { parseArgs } from 'node:util';
import type { Account, Alias, Domain, Tenant } from '@correo/directory';
import { CliError, createAdminClient } from './cli-client.js';
import type { AdminClient } from './cli-client.js';
import { readPassword } from './cli-password.js';

const USAGE = `usage: correo-admin <command> [arguments] [--json]

  add-tenant <name>
  add-domain <domain> [--tenant <id or name>] [--verified]
                                                       (--tenant is required with an operator token;
                                                        --verified, operator only, skips the TXT record)
  verify-domain <domain>                               (checks its _correo-verify TXT record)
  add-account <address> [--password <pw>] [--name <display name>] [--quota <bytes>]
  set-password <address> [--password <pw>]
  add-alias <source> <target>...                       (source user@domain, or @domain for a catch-all)
  list-domains
  list-accounts [--domain <domain>]
  list-aliases [--domain <domain>]
  dlq list [--state pending|replayed|all]              (operator token; default pending: never replayed)
  dlq show <id>
  dlq replay <id>... | dlq replay --all                (--all: every pending dead letter)
  journey <event id | message-id>                      (where a message went: each recipient's fate)
  decisions [--message-id <id>] [--recipient <address>] [--client-ip <ip>] [--since <ISO time>]
                                                       (why mail was refused, delayed or filed to Junk)

Without --password, the password comes from CORREO_ACCOUNT_PASSWORD, a hidden prompt, or the first line of stdin.
Environment: CORREO_API_URL (default http://127.0.0.1:8080), CORREO_API_TOKEN (required).`;

const options = {
  tenant: { type: 'string' },
  password: { type: 'string' },
  name: { type: 'string' },
  quota: { type: 'string' },
  domain: { type: 'string' },
  verified: { type: 'boolean', default: false },
  state: { type: 'string' },
  all: { type: 'boolean', default: false },
  'message-id': { type: 'string' },
  recipient: { type: 'string' },
  'client-ip': { type: 'string' },
  since: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const usageError = (message: string) => new CliError(`${message}\n\n${USAGE}`, 2);

function args(positionals: string[], count: number, names: string): [string, ...string[]] {
  if (positionals.length !== count) throw usageError(`expected ${names}`);
  // Checked just above; callers destructure exactly `count` elements.
  return positionals as [string, ...string[]];
}

async function tenantId(client: AdminClient, given: string | undefined): Promise<string | undefined> {
  if (given === undefined || /^[0-9]+$/.test(given)) return given;
  const tenant = (await client.listAll<Tenant>('/v1/tenants')).find((t) => t.name === given);
  if (!tenant) throw new CliError(`no tenant named ${JSON.stringify(given)}`);
  return tenant.id;
}

async function domainId(client: AdminClient, name: string | undefined): Promise<Record<string, string>> {
  if (name === undefined) return {};
  const ascii = new URL(`http://${name}`).hostname;
  const domain = (await client.listAll<Domain>('/v1/domains')).find((d) => d.name === ascii);
  if (!domain) throw new CliError(`no domain ${name}`);
  return { domainId: domain.id };
}

async function accountByAddress(client: AdminClient, address: string): Promise<Account> {
  const found = await client.request<{ items: Account[] }>(
    'GET',
    `/v1/accounts?${new URLSearchParams({ address })}`,
  );
  const account = found.items[0];
  if (!account) throw new CliError(`no account ${address}`);
  return account;
}

function quota(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw usageError('--quota takes a number of bytes');
  return Number(value);
}

function pendingHint(domain: Domain): string[] {
  const record = domain.verification;
  if (!record) return [];
  return [
    `publish ${record.name} ${record.type} "${record.value}", then: correo-admin verify-domain ${domain.name}`,
  ];
}

function print(json: boolean, value: unknown, lines: () => string[]): void {
  const text = json ? JSON.stringify(value, null, 2) : lines().join('\n');
  if (text !== '') process.stdout.write(`${text}\n`);
}

async function run(
  command: string,
  positionals: string[],
  values: Values,
  client: AdminClient,
): Promise<void> {
  const json = values.json ?? false;
  switch (command) {
    case 'add-tenant': {
      const [name] = args(positionals, 1, 'a tenant name');
      const tenant = await client.request<Tenant>('POST', '/v1/tenants', { name });
      return print(json, tenant, () => [`tenant ${tenant.name} created (id ${tenant.id})`]);
    }
    case 'add-domain': {
      const [name] = args(positionals, 1, 'a domain name');
      const tenant = await tenantId(client, values.tenant);
      const domain = await client.request<Domain>('POST', '/v1/domains', {
        name,
        ...(tenant ? { tenantId: tenant } : {}),
        ...(values.verified ? { verified: true } : {}),
      });
      return print(json, domain, () => [
        `domain ${domain.name} created (id ${domain.id}, tenant ${domain.tenantId}, ${domain.status})`,
        ...pendingHint(domain),
      ]);
    }
    case 'verify-domain': {
      const [name] = args(positionals, 1, 'a domain name');
      const { domainId: id } = await domainId(client, name);
      const domain = await client.request<Domain>('POST', `/v1/domains/${id}/verify`, {});
      return print(json, domain, () => [`domain ${domain.name} ${domain.status}`]);
    }
    case 'add-account': {
      const [address] = args(positionals, 1, 'an address');
      const password = await readPassword(values.password, process.env);
      const quotaBytes = quota(values.quota);
      const account = await client.request<Account>('POST', '/v1/accounts', {
        address,
        password,
        ...(values.name !== undefined ? { displayName: values.name } : {}),
        ...(quotaBytes !== undefined ? { quotaBytes } : {}),
      });
      return print(json, account, () => [`account ${account.address} created (id ${account.id})`]);
    }
    case 'set-password': {
      const [address] = args(positionals, 1, 'an address');
      const account = await accountByAddress(client, address);
      const password = await readPassword(values.password, process.env);
      await client.request('PUT', `/v1/accounts/${account.id}/password`, { password });
      return print(json, { id: account.id, address: account.address }, () => [
        `password of ${account.address} set`,
      ]);
    }
    case 'add-alias': {
      if (positionals.length < 2) throw usageError('expected a source and at least one target');
      const [source, ...targets] = positionals as [string, ...string[]];
      const alias = await client.request<Alias>('POST', '/v1/aliases', { source, targets });
      return print(json, alias, () => [
        `alias ${alias.source} -> ${alias.targets.join(', ')} created (id ${alias.id})`,
      ]);
    }
    case 'list-domains': {
      args(positionals, 0, 'no arguments');
      const domains = await client.listAll<Domain>('/v1/domains');
      return print(json, domains, () =>
        domains.map(
          (d) =>
            `${d.name}${d.unicodeName !== d.name ? ` (${d.unicodeName})` : ''}\ttenant ${d.tenantId}\t${d.status}`,
        ),
      );
    }
    case 'list-accounts': {
      args(positionals, 0, 'no arguments besides --domain');
      const accounts = await client.listAll<Account>('/v1/accounts', await domainId(client, values.domain));
      return print(json, accounts, () =>
        accounts.map(
          (a) =>
            `${a.address}\t${a.disabled ? 'disabled' : 'enabled'}\tquota ${a.quotaBytes ?? 'none'}\tused ${a.usedBytes}`,
        ),
      );
    }
    case 'list-aliases': {
      args(positionals, 0, 'no arguments besides --domain');
      const aliases = await client.listAll<Alias>('/v1/aliases', await domainId(client, values.domain));
      return print(json, aliases, () => aliases.map((a) => `${a.source}\t-> ${a.targets.join(', ')}`));
    }
    case 'dlq':
      return deadLetters(positionals, values, client);
    case 'journey': {
      const [id] = args(positionals, 1, 'an event id or a Message-ID');
      const found = await client.request<{ journeys: JourneyView[] }>(
        'GET',
        `/v1/messages/${encodeURIComponent(id)}/journey`,
      );
      return print(json, found, () => found.journeys.flatMap(journeyLines));
    }
    case 'decisions': {
      args(positionals, 0, 'no arguments besides --message-id, --recipient, --client-ip, --since');
      const query = new URLSearchParams();
      if (values['message-id'] !== undefined) query.set('messageId', values['message-id']);
      if (values.recipient !== undefined) query.set('recipient', values.recipient);
      if (values['client-ip'] !== undefined) query.set('clientIp', values['client-ip']);
      if (values.since !== undefined) query.set('since', values.since);
      const found = await client.request<{ items: DecisionView[] }>('GET', `/v1/decisions?${query}`);
      return print(json, found.items, () => found.items.map(decisionLine));
    }
    default:
      throw usageError(`unknown command ${JSON.stringify(command)}`);
  }
}

interface DecisionView {
  decidedAt: string;
  stage: string;
  outcome: string;
  reason: string;
  detail: string;
  clientIp: string;
  recipients: string[];
  messageId: string | null;
  score: number | null;
}

function decisionLine(d: DecisionView): string {
  const about = [d.clientIp, d.recipients.join(','), d.messageId ?? ''].filter((x) => x !== '').join(' ');
  const score = d.score === null ? '' : ` score ${d.score}`;
  return `${d.decidedAt}\t${d.stage}\t${d.outcome}\t${d.reason}${score}\t${about}\t${d.detail}`;
}

interface DeadLetterView {
  id: string;
  group: string;
  topic: string;
  partition: number;
  offset: string;
  key?: string;
  headers: Record<string, string>;
  error: string;
  attempts: number;
  failedAt: string;
  replayCount: number;
  lastReplayedAt: string | null;
  size: number;
  value?: string;
}

function deadLetterLine(letter: DeadLetterView): string {
  const replayed = letter.replayCount > 0 ? `replayed ${letter.replayCount}x` : 'pending';
  return `${letter.id}\t${letter.topic}[${letter.partition}]@${letter.offset}\t${letter.failedAt}\t${replayed}\t${letter.error}`;
}

interface FateView {
  kind: string;
  account?: string;
  mailbox?: string;
  uid?: number | null;
  reason?: string;
  detail?: string;
  address?: string;
  forwarded?: boolean;
  outcome?: string;
  reply?: string;
  attempts?: number;
  at?: string;
  nextAttemptAt?: string;
}

interface JourneyView {
  eventId: string;
  accepted: {
    receivedAt: string;
    kind: string;
    port: number;
    clientIp: string;
    helo: string;
    authenticatedUser: string;
    mailFrom: string;
    size: number;
    authenticationResults: string;
    messageId: string | null;
    traceId: string;
  } | null;
  recipients: { recipient: string; fates: FateView[] }[];
  deadLetters: { id: string; topic: string; error: string; failedAt: string; replayCount: number }[];
}

function fateText(fate: FateView): string {
  const via = fate.forwarded ? `forwarded to ${fate.address}, ` : '';
  switch (fate.kind) {
    case 'filed':
      return `filed into ${fate.mailbox} of ${fate.account} uid ${fate.uid ?? '(expunged)'} at ${fate.at}`;
    case 'rejected':
      return `rejected (${fate.reason}): ${fate.detail} at ${fate.at}`;
    case 'relayed':
      return `${via}relayed after ${fate.attempts} attempt(s) at ${fate.at}: ${fate.reply}`;
    case 'deferred':
      return `${via}deferred after ${fate.attempts} attempt(s), next attempt at ${fate.nextAttemptAt}: ${fate.reply}`;
    case 'attempting':
      return `${via}being relayed now (attempt ${fate.attempts})${fate.reply ? `, last reply: ${fate.reply}` : ''}`;
    case 'bounced':
      return `${via}bounced (${fate.outcome}) after ${fate.attempts} attempt(s) at ${fate.at}: ${fate.reply}`;
    default:
      return `${via}queued for the relay`;
  }
}

/** One block per acceptance: where and how it came in, then one line per recipient fate. */
function journeyLines(journey: JourneyView): string[] {
  const a = journey.accepted;
  const lines = [`event ${journey.eventId}`];
  if (a) {
    const user = a.authenticatedUser ? ` as ${a.authenticatedUser}` : '';
    lines.push(
      `  accepted ${a.receivedAt} on ${a.kind} port ${a.port} from ${a.clientIp} (helo ${a.helo || '-'})${user}`,
      `  from <${a.mailFrom}>, ${a.size} bytes${a.messageId ? `, Message-ID ${a.messageId}` : ''}`,
      `  trace ${a.traceId || '-'}`,
    );
    // Unfolded: the header smtp-ingress wrote may span lines.
    const results = a.authenticationResults.replace(/\r?\n[ \t]+/g, ' ');
    if (results) lines.push(`  authentication ${results}`);
  } else {
    lines.push('  accepted: not recorded (the mda never handled it)');
  }
  for (const { recipient, fates } of journey.recipients) {
    if (fates.length === 0) lines.push(`  ${recipient}: in transit (the mda is not done yet)`);
    for (const fate of fates) lines.push(`  ${recipient}: ${fateText(fate)}`);
  }
  for (const letter of journey.deadLetters) {
    const state = letter.replayCount > 0 ? `replayed ${letter.replayCount}x` : 'pending';
    lines.push(
      `  dead-lettered on ${letter.topic} at ${letter.failedAt} (dead letter ${letter.id}, ${state}): ${letter.error}`,
    );
  }
  return lines;
}

/** `dlq list|show|replay`: the dead letters an operator decides on (admin-api /v1/dead-letters). */
async function deadLetters(positionals: string[], values: Values, client: AdminClient): Promise<void> {
  const json = values.json ?? false;
  const [action, ...rest] = positionals;
  switch (action) {
    case 'list': {
      args(rest, 0, 'no arguments besides --state');
      const state = values.state ?? 'pending';
      if (!['pending', 'replayed', 'all'].includes(state))
        throw usageError('--state is pending, replayed or all');
      const letters = await client.listAll<DeadLetterView>('/v1/dead-letters', { state });
      return print(json, letters, () => letters.map(deadLetterLine));
    }
    case 'show': {
      const [id] = args(rest, 1, 'a dead letter id');
      const letter = await client.request<DeadLetterView>(
        'GET',
        `/v1/dead-letters/${encodeURIComponent(id)}`,
      );
      return print(json, letter, () => [
        deadLetterLine(letter),
        `group\t${letter.group}`,
        `key\t${letter.key ?? ''}`,
        `attempts\t${letter.attempts}`,
        ...Object.entries(letter.headers).map(([name, value]) => `header ${name}\t${value}`),
        `value (base64, ${letter.size} bytes)\t${letter.value ?? ''}`,
      ]);
    }
    case 'replay': {
      if (values.all === rest.length > 0) throw usageError('expected dead letter ids or --all');
      const ids = values.all
        ? (await client.listAll<DeadLetterView>('/v1/dead-letters', { state: 'pending' })).map((l) => l.id)
        : rest;
      const replayed: DeadLetterView[] = [];
      for (const id of ids) {
        replayed.push(
          await client.request<DeadLetterView>('POST', `/v1/dead-letters/${encodeURIComponent(id)}/replay`),
        );
      }
      return print(json, replayed, () =>
        replayed.map((l) => `dead letter ${l.id} replayed to ${l.topic} (${l.replayCount}x so far)`),
      );
    }
    default:
      throw usageError('expected dlq list, dlq show <id> or dlq replay <id>... | --all');
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const [command, ...positionals] = parsed.positionals;
    if (parsed.values.help || command === undefined || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined && !parsed.values.help ? 2 : 0;
    }
    const token = process.env.CORREO_API_TOKEN;
    if (!token) throw new CliError('CORREO_API_TOKEN is not set: export the admin or tenant API token', 2);
    const client = createAdminClient(process.env.CORREO_API_URL ?? 'http://127.0.0.1:8080', token);
    await run(command, positionals, parsed.values, client);
    return 0;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`correo-admin: ${error.message}\n`);
    return error.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));

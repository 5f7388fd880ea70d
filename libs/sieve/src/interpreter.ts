import { decodedAddressList, decodeHeaderText } from '@correo/mime';
import type { AddressEntry } from '@correo/mime';
import { SieveRuntimeError } from './errors.js';
import type { Comparator, MatchType } from './match.js';
import { matches } from './match.js';
import type { Argument, Command, Script, Test } from './parser.js';
import { splitArguments } from './validate.js';

/** What the interpreter sees of a message: no I/O, the caller hands over what it has. */
export interface MessageView {
  /**
   * Header fields in message order, values as they stand in the message (folded or not, not
   * RFC 2047-decoded yet): a line break and the space or tab after it become one space, as Dovecot
   * unfolds, so scripts written against Pigeonhole match the same way.
   */
  headers: { name: string; value: string }[];
  /** SMTP envelope: MAIL FROM ('' for the null sender) and the RCPT TO this delivery is for. */
  envelope: { from: string; to: string };
  /** Message size in octets (RFC 5228 5.9). */
  size: number;
}

export type SieveAction =
  | { type: 'keep'; flags?: string[] }
  /** `create`: make the mailbox if it does not exist (RFC 5490 3.2) rather than fail to keep. */
  | { type: 'fileinto'; mailbox: string; copy: boolean; create: boolean; flags?: string[] }
  | { type: 'redirect'; address: string; copy: boolean }
  | { type: 'discard' };

export interface RunResult {
  /** What delivery does, implicit keep included as a final `keep`. */
  actions: SieveAction[];
  /** Set when the script failed while running: `actions` is then a plain keep (RFC 5228 2.10.6). */
  error?: SieveRuntimeError;
}

export interface RunLimits {
  /** Redirects one script may do (Pigeonhole's sieve_max_redirects defaults to 4). */
  maxRedirects?: number;
  /** Actions of any kind. */
  maxActions?: number;
}

const ADDRESS_HEADERS = new Set([
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'resent-from',
  'resent-sender',
  'resent-to',
  'resent-cc',
  'resent-bcc',
  'return-path',
  'delivered-to',
  'envelope-to',
  'x-original-to',
]);

class Stop {}

class Run {
  readonly actions: SieveAction[] = [];
  implicitKeep = true;
  /** imap4flags' internal variable (RFC 5232 3). */
  flags: string[] = [];
  private redirects = 0;
  constructor(
    private readonly message: MessageView,
    private readonly require: Set<string>,
    private readonly limits: Required<RunLimits>,
  ) {}

  block(commands: Command[]): void {
    let branchTaken = false;
    for (const command of commands) {
      switch (command.name) {
        case 'require':
          break;
        case 'if':
          branchTaken = this.test(command.tests[0]!);
          if (branchTaken) this.block(command.block!);
          break;
        case 'elsif':
          if (!branchTaken) {
            branchTaken = this.test(command.tests[0]!);
            if (branchTaken) this.block(command.block!);
          }
          break;
        case 'else':
          if (!branchTaken) this.block(command.block!);
          break;
        default:
          this.action(command);
      }
    }
  }

  private add(action: SieveAction): void {
    // RFC 5228 4.1/4.2: the same action twice is done once.
    const same = this.actions.find((a) => sameTarget(a, action));
    if (same) {
      if ('copy' in same && 'copy' in action && !action.copy) same.copy = false;
      if (same.type === 'fileinto' && action.type === 'fileinto' && action.create) same.create = true;
      if ('flags' in action && action.flags) (same as { flags?: string[] }).flags = action.flags;
      return;
    }
    if (this.actions.length >= this.limits.maxActions) throw new SieveRuntimeError('too many actions');
    this.actions.push(action);
  }

  private action(command: Command): void {
    const { tags, positional } = splitArguments(command);
    const copy = tags.has('copy');
    const flags = (): string[] | undefined => {
      if (!this.require.has('imap4flags')) return undefined;
      const given = tags.get('flags');
      return given?.type === 'strings' ? flagList(given.values) : [...this.flags];
    };
    switch (command.name) {
      case 'stop':
        throw new Stop();
      case 'keep':
        this.implicitKeep = false;
        this.add({ type: 'keep', ...withFlags(flags()) });
        return;
      case 'discard':
        this.implicitKeep = false;
        this.add({ type: 'discard' });
        return;
      case 'fileinto':
        if (!copy) this.implicitKeep = false;
        this.add({
          type: 'fileinto',
          mailbox: first(positional[0]),
          copy,
          create: tags.has('create'),
          ...withFlags(flags()),
        });
        return;
      case 'redirect': {
        const action: SieveAction = { type: 'redirect', address: first(positional[0]), copy };
        // A repeated redirect is done once (RFC 5228 4.2), so it does not count against the limit.
        if (!this.actions.some((a) => sameTarget(a, action)) && ++this.redirects > this.limits.maxRedirects) {
          throw new SieveRuntimeError('too many redirects');
        }
        if (!copy) this.implicitKeep = false;
        this.add(action);
        return;
      }
      case 'setflag':
        this.flags = flagList(strings(positional[0]));
        return;
      case 'addflag':
        this.flags = flagList([...this.flags, ...strings(positional[0])]);
        return;
      case 'removeflag': {
        const gone = new Set(flagList(strings(positional[0])).map((f) => f.toLowerCase()));
        this.flags = this.flags.filter((f) => !gone.has(f.toLowerCase()));
        return;
      }
    }
  }

  test(test: Test): boolean {
    switch (test.name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.test(test.tests[0]!);
      case 'allof':
        return test.tests.every((t) => this.test(t));
      case 'anyof':
        return test.tests.some((t) => this.test(t));
      case 'exists':
        return strings(splitArguments(test).positional[0]).every(
          (name) => this.headerValues(name).length > 0,
        );
      case 'size': {
        const { tags, positional } = splitArguments(test);
        const limit = positional[0]?.type === 'number' ? positional[0].value : 0;
        return tags.has('over') ? this.message.size > limit : this.message.size < limit;
      }
      case 'header': {
        const { names, keys, match } = this.matchArgs(test);
        // RFC 5228 5.7: header compares the decoded text (RFC 2047); address parses the raw field.
        return names.some((name) =>
          this.headerValues(name).some((raw) => {
            const value = decodeHeaderText(raw);
            return keys.some((key) => match(value, key));
          }),
        );
      }
      case 'address': {
        const { names, keys, match, part } = this.matchArgs(test);
        return names.some((name) =>
          this.headerValues(name).some((value) =>
            addressesOf(name, value).some((address) => {
              const value = addressPart(address, part);
              return value !== null && keys.some((key) => match(value, key));
            }),
          ),
        );
      }
      case 'envelope': {
        const { names, keys, match, part } = this.matchArgs(test);
        return names.some((name) => {
          const lower = name.toLowerCase();
          if (lower !== 'from' && lower !== 'to') return false;
          const address = lower === 'from' ? this.message.envelope.from : this.message.envelope.to;
          // RFC 5228 5.4: the null reverse path matches "" with :all only.
          const value = address === '' ? (part === 'all' ? '' : null) : addressPart(address, part);
          return value !== null && keys.some((key) => match(value, key));
        });
      }
      case 'hasflag': {
        const { tags, positional } = splitArguments(test);
        const match = matcher(tags);
        const keys = strings(positional[0]);
        return this.flags.some((flag) => keys.some((key) => match(flag, key)));
      }
    }
    return false;
  }

  private matchArgs(test: Test): {
    names: string[];
    keys: string[];
    match: (value: string, key: string) => boolean;
    part: AddressPart;
  } {
    const { tags, positional } = splitArguments(test);
    const part = (['localpart', 'domain', 'user', 'detail'] as const).find((p) => tags.has(p)) ?? 'all';
    return { names: strings(positional[0]), keys: strings(positional[1]), match: matcher(tags), part };
  }

  private headerValues(name: string): string[] {
    const lower = name.toLowerCase();
    return this.message.headers
      .filter((h) => h.name.toLowerCase() === lower)
      .map((h) => h.value.replace(/\r?\n[ \t]/g, ' ').replace(/^[ \t]+|[ \t]+$/g, ''));
  }
}

function matcher(tags: Map<string, Argument | null>): (value: string, key: string) => boolean {
  const type: MatchType = tags.has('contains') ? 'contains' : tags.has('matches') ? 'matches' : 'is';
  const given = tags.get('comparator');
  const comparator = (given?.type === 'strings' ? given.values[0] : 'i;ascii-casemap') as Comparator;
  return (value, key) => matches(value, key, type, comparator);
}

function sameTarget(a: SieveAction, b: SieveAction): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'fileinto' && b.type === 'fileinto') return a.mailbox === b.mailbox;
  // Local parts are case-sensitive (RFC 5321 2.4): A@b and a@b are two redirects, as in Pigeonhole.
  if (a.type === 'redirect' && b.type === 'redirect') return a.address === b.address;
  return true;
}

function withFlags(flags: string[] | undefined): { flags?: string[] } {
  return flags === undefined ? {} : { flags };
}

function strings(arg: Argument | undefined): string[] {
  return arg?.type === 'strings' ? arg.values : [];
}

function first(arg: Argument | undefined): string {
  return strings(arg)[0] ?? '';
}

/** RFC 5232 3: flags are space-separated inside each string; duplicates (any case) collapse. */
function flagList(values: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const flag of values.flatMap((v) => v.split(' ')).filter(Boolean)) {
    if (seen.has(flag.toLowerCase())) continue;
    seen.add(flag.toLowerCase());
    out.push(flag);
  }
  return out;
}

function addressesOf(name: string, value: string): string[] {
  if (!ADDRESS_HEADERS.has(name.toLowerCase())) return [];
  const out: string[] = [];
  const walk = (entries: AddressEntry[]): void => {
    for (const entry of entries) {
      if ('group' in entry) walk(entry.group);
      else if (entry.address) out.push(entry.address);
    }
  };
  walk(decodedAddressList(value));
  return out;
}

type AddressPart = 'all' | 'localpart' | 'domain' | 'user' | 'detail';

/** The subaddress separator (RFC 5233), "+" as Postfix's and Dovecot's default recipient_delimiter. */
const SEPARATOR = '+';

/**
 * RFC 5228 2.7.4 and RFC 5233 4; an address without "@" has no domain and so never matches
 * :domain; a local part without the separator has no detail, so :detail never matches it.
 */
function addressPart(address: string, part: AddressPart): string | null {
  if (part === 'all') return address;
  const at = address.lastIndexOf('@');
  if (part === 'domain') return at < 0 ? null : address.slice(at + 1);
  const local = at < 0 ? address : address.slice(0, at);
  if (part === 'localpart') return local;
  const plus = local.indexOf(SEPARATOR);
  if (part === 'user') return plus < 0 ? local : local.slice(0, plus);
  return plus < 0 ? null : local.slice(plus + 1);
}

/**
 * Runs a parsed script against one message. Never throws: a run-time failure (a limit) yields a
 * plain keep plus the error, so mail is never lost to a broken script (RFC 5228 2.10.6).
 */
export function runScript(script: Script, message: MessageView, limits: RunLimits = {}): RunResult {
  const run = new Run(message, script.require, { maxRedirects: 4, maxActions: 32, ...limits });
  try {
    run.block(script.commands);
  } catch (error) {
    if (!(error instanceof Stop)) {
      const failure = error instanceof SieveRuntimeError ? error : new SieveRuntimeError(String(error));
      return { actions: [{ type: 'keep' }], error: failure };
    }
  }
  const actions = run.actions;
  if (run.implicitKeep && !actions.some((a) => a.type === 'keep')) {
    actions.push({ type: 'keep', ...withFlags(script.require.has('imap4flags') ? run.flags : undefined) });
  }
  return { actions };
}

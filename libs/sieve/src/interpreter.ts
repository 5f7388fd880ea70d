import { createHash } from 'node:crypto';
import { decodedAddressList, decodeHeaderText } from '@correo/mime';
import type { AddressEntry } from '@correo/mime';
import type { ZonedTime } from './date.js';
import { datePart, parseMessageDate, parseZone } from './date.js';
import { SieveRuntimeError } from './errors.js';
import type { Comparator, MatchType } from './match.js';
import { fold, matchCaptures } from './match.js';
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
  /**
   * The body for the `body` test (RFC 5173): `raw` as it stands after the header; `parts` the
   * decoded leaf parts (content type lowercased, e.g. "text/plain", and their text). Absent = the
   * body test is false.
   */
  body?: { raw: string; parts?: { contentType: string; text: string }[] };
  /** Spam verdict for spamtest (RFC 5235): score 0..max as the filter gave it. Absent = untested. */
  spam?: { score: number; max: number };
  /** Virus verdict for virustest (RFC 5235 3.2): 1 clean .. 5 infected and not cleaned. */
  virus?: number;
  /** The user's mailbox names for mailboxexists (RFC 5490 3.1); absent = it is false. */
  mailboxes?: string[];
  /** The delivery time for currentdate (RFC 5260 5); absent = currentdate is false. */
  now?: Date;
  /** The user's time zone as "+hhmm" for date parts without :zone (RFC 5260 4.1); default +0000. */
  zone?: string;
  /** The user's addresses besides envelope.to: vacation never answers them and needs one in To/Cc. */
  ownAddresses?: string[];
}

export type SieveAction =
  | { type: 'keep'; flags?: string[] }
  /** `create`: make the mailbox if it does not exist (RFC 5490 3.2) rather than fail to keep. */
  | { type: 'fileinto'; mailbox: string; copy: boolean; create: boolean; flags?: string[] }
  | { type: 'redirect'; address: string; copy: boolean }
  | { type: 'discard' }
  /**
   * vacation (RFC 5230): reply to `to` (the envelope sender) unless already answered within `days`
   * for the same `handle`; the list/bulk/own-address rules are already applied (no action then).
   * `reason` is the body, a whole MIME entity when `mime`.
   */
  | {
      type: 'vacation';
      to: string;
      from?: string;
      subject: string;
      reason: string;
      mime: boolean;
      handle: string;
      days: number;
    }
  /** reject/ereject (RFC 5429): refuse the message with `reason`; the mda picks refusal or DSN. */
  | { type: 'reject'; reason: string; ereject: boolean };

export interface RunResult {
  /** What delivery does, implicit keep included as a final `keep`. */
  actions: SieveAction[];
  /** Set when the script failed while running: `actions` is then a plain keep (RFC 5228 2.10.6). */
  error?: SieveRuntimeError;
  /** vacation ran but no reply is due (a list, bulk, an auto-reply, the null sender...): why. */
  vacationSkipped?: string;
}

export interface RunLimits {
  /** Redirects one script may do (Pigeonhole's sieve_max_redirects defaults to 4). */
  maxRedirects?: number;
  /** Actions of any kind. */
  maxActions?: number;
  /** Octets one variable holds (RFC 5229 6; Pigeonhole's sieve_variables_max_variable_size). */
  maxVariableBytes?: number;
  /** Octets one string may grow to by `${...}` expansion. */
  maxExpandedBytes?: number;
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
  vacationSkipped?: string;
  /** A vacation ran, answered or not: a second one or a reject is a conflict either way. */
  private vacationSeen = false;
  private redirects = 0;
  /** RFC 5229: variables by lowercased name, and ${0}..${9} from the last successful :matches. */
  private readonly variables = new Map<string, string>();
  private matchVariables: string[] = [];
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

  /**
   * Pigeonhole's run-time conflicts (RFC 5429 2.1, RFC 5230 4.7): reject goes with no delivery
   * (discard only) and no vacation; one vacation per run. A conflict fails the run, so keep.
   */
  private checkConflict(action: SieveAction): void {
    const delivers = (a: SieveAction): boolean =>
      a.type === 'keep' || a.type === 'fileinto' || a.type === 'redirect';
    const has = (type: SieveAction['type']): boolean => this.actions.some((a) => a.type === type);
    if (action.type === 'vacation' && this.vacationSeen) throw new SieveRuntimeError('duplicate vacation');
    if (action.type === 'reject' && (this.actions.some(delivers) || this.vacationSeen))
      throw new SieveRuntimeError('reject conflicts with an earlier delivery or vacation');
    if ((delivers(action) || action.type === 'vacation') && has('reject'))
      throw new SieveRuntimeError(`${action.type} conflicts with an earlier reject`);
  }

  /** `${name}` and `${N}` substitution (RFC 5229 3): one pass, unknown names are empty. */
  private expand(value: string): string {
    if (!this.require.has('variables') || !value.includes('${')) return value;
    const expanded = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}/g, (_, name: string) =>
      /^[0-9]/.test(name)
        ? (this.matchVariables[Number(name)] ?? '')
        : (this.variables.get(name.toLowerCase()) ?? ''),
    );
    return truncate(expanded, this.limits.maxExpandedBytes);
  }

  private strings(arg: Argument | undefined): string[] {
    return strings(arg).map((v) => this.expand(v));
  }

  private first(arg: Argument | undefined): string {
    return this.strings(arg)[0] ?? '';
  }

  private add(action: SieveAction): void {
    this.checkConflict(action);
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
      return given?.type === 'strings' ? flagList(this.strings(given)) : [...this.flags];
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
          mailbox: this.first(positional[0]),
          copy,
          create: tags.has('create'),
          ...withFlags(flags()),
        });
        return;
      case 'redirect': {
        const action: SieveAction = { type: 'redirect', address: this.first(positional[0]), copy };
        // A repeated redirect is done once (RFC 5228 4.2), so it does not count against the limit.
        if (!this.actions.some((a) => sameTarget(a, action)) && ++this.redirects > this.limits.maxRedirects) {
          throw new SieveRuntimeError('too many redirects');
        }
        if (!copy) this.implicitKeep = false;
        this.add(action);
        return;
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag': {
        // With two arguments the first names a variable that holds the flags (RFC 5232 3).
        const variable = positional.length === 2 ? first(positional[0]).toLowerCase() : null;
        const current = variable === null ? this.flags : flagList([this.variables.get(variable) ?? '']);
        const given = flagList(this.strings(positional[positional.length - 1]));
        let next: string[];
        if (command.name === 'setflag') next = given;
        else if (command.name === 'addflag') next = flagList([...current, ...given]);
        else {
          const gone = new Set(given.map((f) => f.toLowerCase()));
          next = current.filter((f) => !gone.has(f.toLowerCase()));
        }
        if (variable === null) this.flags = next;
        else this.variables.set(variable, truncate(next.join(' '), this.limits.maxVariableBytes));
        return;
      }
      case 'set': {
        // The name is a constant checked at parse time; the value is expanded (RFC 5229 4).
        const name = first(positional[0]).toLowerCase();
        let value = this.first(positional[1]);
        if (tags.has('lower')) value = value.toLowerCase();
        if (tags.has('upper')) value = value.toUpperCase();
        if (tags.has('lowerfirst')) value = value.slice(0, 1).toLowerCase() + value.slice(1);
        if (tags.has('upperfirst')) value = value.slice(0, 1).toUpperCase() + value.slice(1);
        if (tags.has('quotewildcard')) value = value.replace(/[*?\\]/g, '\\$&');
        if (tags.has('length')) value = String(Array.from(value).length);
        this.variables.set(name, truncate(value, this.limits.maxVariableBytes));
        return;
      }
      case 'reject':
      case 'ereject':
        this.implicitKeep = false;
        this.add({ type: 'reject', reason: this.first(positional[0]), ereject: command.name === 'ereject' });
        return;
      case 'vacation':
        this.vacation(tags, positional);
        return;
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
        return this.strings(splitArguments(test).positional[0]).every(
          (name) => this.headerValues(name).length > 0,
        );
      case 'size': {
        const { tags, positional } = splitArguments(test);
        const limit = positional[0]?.type === 'number' ? positional[0].value : 0;
        return tags.has('over') ? this.message.size > limit : this.message.size < limit;
      }
      case 'header': {
        const { tags, positional } = splitArguments(test);
        // RFC 5228 5.7: header compares the decoded text (RFC 2047); address parses the raw field.
        const values = this.strings(positional[0]).flatMap((name) =>
          this.headerValues(name, tags).map((raw) => decodeHeaderText(raw)),
        );
        return this.compare(values, this.strings(positional[1]), tags);
      }
      case 'address': {
        const { tags, positional } = splitArguments(test);
        const part = partOf(tags);
        const values = this.strings(positional[0]).flatMap((name) =>
          this.headerValues(name, tags).flatMap((value) =>
            addressesOf(name, value).flatMap((address) => addressPart(address, part) ?? []),
          ),
        );
        return this.compare(values, this.strings(positional[1]), tags);
      }
      case 'envelope': {
        const { tags, positional } = splitArguments(test);
        const part = partOf(tags);
        const values = this.strings(positional[0]).flatMap((name) => {
          const lower = name.toLowerCase();
          if (lower !== 'from' && lower !== 'to') return [];
          const address = lower === 'from' ? this.message.envelope.from : this.message.envelope.to;
          // RFC 5228 5.4: the null reverse path matches "" with :all only.
          return (address === '' ? (part === 'all' ? '' : null) : addressPart(address, part)) ?? [];
        });
        return this.compare(values, this.strings(positional[1]), tags);
      }
      case 'hasflag': {
        const { tags, positional } = splitArguments(test);
        const flags =
          positional.length === 2
            ? flagList(strings(positional[0]).map((name) => this.variables.get(name.toLowerCase()) ?? ''))
            : this.flags;
        return this.compare(flags, this.strings(positional[positional.length - 1]), tags);
      }
      case 'string': {
        const { tags, positional } = splitArguments(test);
        // RFC 5229 5: with :count, empty strings are not counted.
        const values = this.strings(positional[0]);
        return this.compare(
          tags.has('count') ? values.filter(Boolean) : values,
          this.strings(positional[1]),
          tags,
        );
      }
      case 'date':
      case 'currentdate': {
        const { tags, positional } = splitArguments(test);
        const current = test.name === 'currentdate';
        let time: ZonedTime | null;
        if (current)
          time = this.message.now ? { epochMs: this.message.now.getTime(), offsetMinutes: 0 } : null;
        else {
          // The first field of that name carries the date (RFC 5260 4); an unparsable one fails the test.
          const field = this.headerValues(this.first(positional[0]), tags)[0];
          time = field === undefined ? null : parseMessageDate(field);
        }
        if (!time) return false;
        const zoneArg = tags.get('zone');
        if (!tags.has('originalzone')) {
          const zone = zoneArg?.type === 'strings' ? this.expand(zoneArg.values[0]!) : this.message.zone;
          time = { ...time, offsetMinutes: parseZone(zone ?? '+0000') ?? 0 };
        }
        const part = datePart(time, this.first(positional[current ? 0 : 1]));
        if (part === null) return false;
        return this.compare([part], this.strings(positional[current ? 1 : 2]), tags);
      }
      case 'mailboxexists': {
        // INBOX is case-insensitive (RFC 3501 5.1), other names exact.
        const have = this.message.mailboxes;
        const exists = (name: string): boolean =>
          !!have?.some((m) => m === name || (m.toUpperCase() === 'INBOX' && name.toUpperCase() === 'INBOX'));
        return !!have && this.strings(splitArguments(test).positional[0]).every(exists);
      }
      case 'spamtest': {
        const { tags, positional } = splitArguments(test);
        const spam = this.message.spam;
        // RFC 5235: "0" = not tested; else 1 (surely ham) .. 10 (surely spam), :percent 0..100.
        let value = '0';
        if (spam) {
          const ratio = spam.max > 0 ? Math.min(1, Math.max(0, spam.score / spam.max)) : 0;
          value = tags.has('percent') ? String(Math.round(ratio * 100)) : String(1 + Math.round(ratio * 9));
        }
        return this.compare([value], this.strings(positional[0]), tags);
      }
      case 'virustest': {
        const { tags, positional } = splitArguments(test);
        const virus = this.message.virus;
        const value = virus === undefined ? '0' : String(Math.min(5, Math.max(1, Math.round(virus))));
        return this.compare([value], this.strings(positional[0]), tags);
      }
      case 'body': {
        const { tags, positional } = splitArguments(test);
        const body = this.message.body;
        if (!body) return false;
        let values: string[];
        if (tags.has('raw')) values = [body.raw];
        else {
          const content = tags.get('content');
          // RFC 5173 5.2: "text" = text/*, "text/plain" exact, "" = every part; :text = text parts.
          const types = content?.type === 'strings' ? this.strings(content) : ['text'];
          values = (body.parts ?? [])
            .filter((p) => types.some((t) => contentTypeMatches(p.contentType, t)))
            .map((p) => p.text);
        }
        return this.compare(values, this.strings(positional[0]), tags);
      }
    }
    return false;
  }

  /**
   * Any value against any key by the match type, or :count/:value relations (RFC 5231); a
   * successful :matches sets ${0}..${9} (RFC 5229 3.2).
   */
  private compare(values: string[], keys: string[], tags: Map<string, Argument | null>): boolean {
    const given = tags.get('comparator');
    const comparator = given?.type === 'strings' ? given.values[0]! : 'i;ascii-casemap';
    const count = tags.get('count');
    const value = tags.get('value');
    if (count?.type === 'strings') {
      const relation = count.values[0]!.toLowerCase();
      return keys.some((key) => relate(String(values.length), key, relation, comparator));
    }
    if (value?.type === 'strings') {
      const relation = value.values[0]!.toLowerCase();
      return values.some((v) => keys.some((key) => relate(v, key, relation, comparator)));
    }
    const type: MatchType = tags.has('contains') ? 'contains' : tags.has('matches') ? 'matches' : 'is';
    for (const v of values) {
      for (const key of keys) {
        if (comparator === 'i;ascii-numeric') {
          if (type === 'is' && relate(v, key, 'eq', comparator)) return true;
          continue;
        }
        const captures = matchCaptures(v, key, type, comparator as Comparator);
        if (!captures) continue;
        if (type === 'matches' && this.require.has('variables')) this.matchVariables = captures.slice(0, 10);
        return true;
      }
    }
    return false;
  }

  private vacation(tags: Map<string, Argument | null>, positional: Argument[]): void {
    const text = (name: string): string | undefined => {
      const arg = tags.get(name);
      return arg?.type === 'strings' ? this.expand(arg.values[0]!) : undefined;
    };
    const daysArg = tags.get('days');
    // RFC 5230 4.1: default 7, at least 1; at most 60 as Pigeonhole's sieve_vacation_max_period.
    const days = Math.min(60, Math.max(1, daysArg?.type === 'number' ? daysArg.value : 7));
    const addressesArg = tags.get('addresses');
    const addresses = addressesArg?.type === 'strings' ? this.strings(addressesArg) : [];
    const reason = this.first(positional[0]);
    const from = text('from');
    const subjectTag = text('subject');
    const mime = tags.has('mime');
    // RFC 5230 4.2: without :handle, replies with the same text are one series.
    const handle =
      text('handle') ??
      createHash('sha256')
        .update(JSON.stringify([reason, subjectTag ?? null, from ?? null, mime]))
        .digest('hex')
        .slice(0, 32);
    const skip = vacationSkip(this.message, addresses);
    const original = this.headerValues('subject')[0];
    const subject = subjectTag ?? `Auto: ${original === undefined ? '' : decodeHeaderText(original)}`;
    const action: SieveAction = {
      type: 'vacation',
      to: this.message.envelope.from,
      ...(from === undefined ? {} : { from }),
      subject,
      reason,
      mime,
      handle,
      days,
    };
    this.checkConflict(action);
    if (skip) this.vacationSkipped = skip;
    else this.add(action);
    this.vacationSeen = true;
  }

  /** The fields of that name, unfolded; with :index (RFC 5260 6) only the one it picks. */
  private headerValues(name: string, tags?: Map<string, Argument | null>): string[] {
    const lower = name.toLowerCase();
    const values = this.message.headers
      .filter((h) => h.name.toLowerCase() === lower)
      .map((h) => h.value.replace(/\r?\n[ \t]/g, ' ').replace(/^[ \t]+|[ \t]+$/g, ''));
    const index = tags?.get('index');
    if (index?.type !== 'number') return values;
    const at = tags!.has('last') ? values.length - index.value : index.value - 1;
    return at >= 0 && at < values.length ? [values[at]!] : [];
  }
}

function partOf(tags: Map<string, Argument | null>): AddressPart {
  return (['localpart', 'domain', 'user', 'detail'] as const).find((p) => tags.has(p)) ?? 'all';
}

function contentTypeMatches(contentType: string, wanted: string): boolean {
  const type = contentType.toLowerCase();
  const want = wanted.toLowerCase();
  if (want === '') return true;
  return want.includes('/') ? type === want : type.split('/')[0] === want;
}

/**
 * i;ascii-numeric (RFC 4790 9.1): the leading digits as a number, no digits = positive infinity;
 * other comparators order the strings (after ASCII case folding for i;ascii-casemap).
 */
function relate(value: string, key: string, relation: string, comparator: string): boolean {
  let order: number;
  if (comparator === 'i;ascii-numeric') {
    const num = (s: string): bigint | null => {
      const m = /^[0-9]+/.exec(s);
      return m ? BigInt(m[0]) : null;
    };
    const a = num(value);
    const b = num(key);
    order = a === null ? (b === null ? 0 : 1) : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0;
  } else {
    order = Buffer.compare(Buffer.from(fold(value, comparator)), Buffer.from(fold(key, comparator)));
  }
  switch (relation) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'eq':
      return order === 0;
    default:
      return order !== 0;
  }
}

const LIST_HEADERS = /^list-(id|help|subscribe|unsubscribe|post|owner|archive)$/i;
/** RFC 5230 4.6: senders that are lists or mail systems, never people. */
const SYSTEM_SENDER = /^(mailer-daemon|listserv|majordomo|postmaster|owner-.*|.*-request|.*-owner)$/i;

/**
 * Why no automatic message (a vacation reply, a rejection notice) may answer this one, whoever the
 * user is: the null sender, a mail system or list as sender, Auto-Submitted other than "no", list
 * headers, bulk precedence (RFC 5230 4.5, 4.6; RFC 3834 2; RFC 5429 2.1). Null = it may be answered.
 */
export function automatedMessage(message: Pick<MessageView, 'envelope' | 'headers'>): string | null {
  const sender = message.envelope.from;
  if (sender === '') return 'null sender';
  const at = sender.lastIndexOf('@');
  if (SYSTEM_SENDER.test(at < 0 ? sender : sender.slice(0, at))) return 'sender is a mail system or list';
  const field = (name: string): string[] =>
    message.headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value.trim().toLowerCase());
  if (field('auto-submitted').some((v) => !/^no\b/.test(v))) return 'auto-submitted';
  if (message.headers.some((h) => LIST_HEADERS.test(h.name))) return 'mailing list';
  if (field('precedence').some((v) => ['bulk', 'list', 'junk'].includes(v))) return 'bulk precedence';
  return null;
}

/**
 * Whether an automatic reply is due, from the message alone (RFC 5230 4.5, 4.6; RFC 3834 2):
 * null = answer, else why not. The once-per-sender-per-period memory is the caller's.
 */
export function vacationSkip(message: MessageView, addresses: string[] = []): string | null {
  const automated = automatedMessage(message);
  if (automated) return automated;
  const sender = message.envelope.from;
  const own = new Set(
    [message.envelope.to, ...(message.ownAddresses ?? []), ...addresses].map((a) => a.toLowerCase()),
  );
  if (own.has(sender.toLowerCase())) return 'sender is the user';
  const recipients = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'].flatMap((name) =>
    message.headers
      .filter((h) => h.name.toLowerCase() === name)
      .flatMap((h) => addressesOf(name, h.value.replace(/\r?\n[ \t]/g, ' '))),
  );
  if (!recipients.some((r) => own.has(r.toLowerCase()))) return 'user not in To/Cc';
  return null;
}

/** Cuts a string to at most `bytes` UTF-8 octets, never inside a character. */
function truncate(value: string, bytes: number): string {
  if (Buffer.byteLength(value) <= bytes) return value;
  return Buffer.from(value)
    .subarray(0, bytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
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

/** Redirects one run may do unless told otherwise (ManageSieve advertises it as MAXREDIRECTS). */
export const DEFAULT_MAX_REDIRECTS = 4;

/**
 * Runs a parsed script against one message. Never throws: a run-time failure (a limit) yields a
 * plain keep plus the error, so mail is never lost to a broken script (RFC 5228 2.10.6).
 */
export function runScript(script: Script, message: MessageView, limits: RunLimits = {}): RunResult {
  const run = new Run(message, script.require, {
    maxRedirects: DEFAULT_MAX_REDIRECTS,
    maxActions: 32,
    maxVariableBytes: 4096,
    maxExpandedBytes: 64 * 1024,
    ...limits,
  });
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
  return { actions, ...(run.vacationSkipped ? { vacationSkipped: run.vacationSkipped } : {}) };
}

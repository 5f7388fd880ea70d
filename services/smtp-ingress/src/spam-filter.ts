import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import type { Readable } from 'node:stream';
import type { DomainSpamThresholds } from '@correo/store';
import type { Logger } from '@correo/telemetry';
import { fold } from './authentication-results.js';
import { ingressMetrics } from './metrics.js';
import { SmtpReply } from './smtp-reply.js';

/** SMTP_SPAM_* and RSPAMD_URL (config.ts); absent url = the filter is off. */
export interface SpamFilterConfig {
  /** Rspamd's normal worker, e.g. http://127.0.0.1:11333 (its /checkv2). */
  url: string;
  /** The whole /checkv2 exchange; beyond it the message is accepted unchecked (fail open). */
  timeoutMs: number;
  /** Authenticated submission is scanned too (outbound, Rspamd sees the User), or skipped. */
  scanSubmission: boolean;
  /** A score at or above this files the copy into Junk (a domain may set its own). */
  junkScore: number;
}

/** What smtp-ingress knows of the message besides its bytes, as Rspamd's protocol headers name it. */
export interface SpamCheckEnvelope {
  eventId: string;
  clientIp: string;
  helo: string;
  /** The client's reverse DNS name; undefined when it has none or it was not looked up. */
  clientHostname?: string;
  mailFrom: string;
  recipients: string[];
  /** The SASL identity on submission. */
  user?: string;
  /**
   * What the connection and envelope stages found (HELO, rDNS, DNSBL in score mode: session-checks.ts):
   * added to Rspamd's score and symbols, so one verdict weighs both.
   */
  senderChecks?: SpamSymbol[];
}

/** One symbol that scored. */
export interface SpamSymbol {
  name: string;
  score: number;
}

/** Rspamd's answer as smtp-ingress keeps it. */
export interface SpamCheck {
  status: 'checked' | 'unchecked' | 'skipped';
  /** Rspamd's action; '' unless checked. */
  action: string;
  score: number;
  /** Rspamd's reject score (its `required_score`). */
  requiredScore: number;
  symbols: SpamSymbol[];
  /** Why it is unchecked ('timeout', 'HTTP 500', ...). */
  error?: string;
}

/** The outcome smtp-ingress acts on (and counts by `outcome` in correo_smtp_spam_verdicts_total). */
export interface SpamDecision {
  outcome: 'reject' | 'soft_reject' | 'junk' | 'accept' | 'unchecked' | 'skipped';
  check: SpamCheck;
  /** The score that would reject for these recipients (Sieve spamtest's 100 %). */
  rejectScore: number;
  /** The recipients whose domain's Junk threshold the score reached. */
  junkRecipients: string[];
  /** Set for reject and soft_reject: the reply the client gets instead of 250. */
  refusal?: SmtpReply;
}

/** Looks up the recipients' domains' own thresholds (libs/store readDomainSpamThresholds). */
export type SpamThresholdLookup = (domains: string[]) => Promise<Map<string, DomainSpamThresholds>>;

export interface SpamFilter {
  config: SpamFilterConfig;
  /** Asks Rspamd, decides, counts and logs; never throws for Rspamd's sake (fail open). */
  judge(
    message: () => Readable,
    envelope: SpamCheckEnvelope,
    kind: 'mx' | 'submission',
  ): Promise<SpamDecision>;
}

/** The headers clients may not bring: only the verdict we write is trusted (mda, Sieve, webmail). */
export const SPAM_HEADER_NAMES = ['x-spam-status', 'x-spam-score', 'x-spam-flag', 'x-spam-symbols'];

export function createSpamFilter(
  config: SpamFilterConfig,
  thresholds: SpamThresholdLookup,
  logger: Logger,
): SpamFilter {
  return {
    config,
    async judge(message, envelope, kind) {
      const check = withSenderChecks(
        kind === 'submission' && !config.scanSubmission
          ? skipped()
          : await askRspamd(config, message, envelope),
        envelope.senderChecks ?? [],
      );
      const domains = envelope.recipients.map(domainOf);
      const own = check.status === 'checked' ? await thresholds(domains) : new Map();
      const decision = decide(check, envelope.recipients, own, config.junkScore);
      ingressMetrics.spamVerdicts.inc({ action: decision.outcome });
      const fields = {
        eventId: envelope.eventId,
        clientIp: envelope.clientIp,
        outcome: decision.outcome,
        action: check.action,
        score: round(check.score),
        rejectScore: round(decision.rejectScore),
        symbols: check.symbols.map(symbolText),
        junkRecipients: decision.junkRecipients.length > 0 ? decision.junkRecipients : undefined,
        error: check.error,
      };
      if (decision.outcome === 'unchecked') logger.warn(fields, 'spam check failed: accepted unchecked');
      else logger.info(fields, 'spam verdict');
      return decision;
    },
  };
}

/**
 * What the verdict means for this message. Reject (550 5.7.1) only when every recipient's domain
 * would reject it (its own reject score, or Rspamd's reject action): one reply answers all recipients
 * after DATA, and a domain that wants the mail must get it. Rspamd's soft reject (its greylisting or
 * rate limits) is 451 4.7.1. Rspamd's "greylist" action is not applied here: it only names the score at
 * which Rspamd's greylist module would defer, and that module (off in correo's configuration; the MX
 * greylists itself) would have turned it into a soft reject. Junk is per recipient.
 */
export function decide(
  check: SpamCheck,
  recipients: readonly string[],
  own: ReadonlyMap<string, DomainSpamThresholds>,
  defaultJunkScore: number,
): SpamDecision {
  const settings = recipients.map((r) => own.get(domainOf(r)) ?? {});
  const rejectScore = Math.max(...settings.map((s) => s.rejectScore ?? check.requiredScore));
  if (check.status !== 'checked') {
    return { outcome: check.status, check, rejectScore, junkRecipients: [] };
  }
  const rejects = settings.every((s) =>
    s.rejectScore !== undefined
      ? check.score >= s.rejectScore
      : check.action === 'reject' || check.score >= check.requiredScore,
  );
  if (rejects && recipients.length > 0) {
    return {
      outcome: 'reject',
      check,
      rejectScore,
      junkRecipients: [],
      refusal: new SpamRefusal(550, '5.7.1', 'Message rejected as spam', 'spam', check),
    };
  }
  if (check.action === 'soft reject') {
    return {
      outcome: 'soft_reject',
      check,
      rejectScore,
      junkRecipients: [],
      refusal: new SpamRefusal(
        451,
        '4.7.1',
        'Message deferred by the spam filter, try again later',
        'spam_deferred',
        check,
      ),
    };
  }
  const junkRecipients = recipients.filter(
    (_, i) => check.score >= (settings[i]!.junkScore ?? defaultJunkScore),
  );
  return { outcome: junkRecipients.length > 0 ? 'junk' : 'accept', check, rejectScore, junkRecipients };
}

/**
 * The verdict as header fields of ours, on top of the stored message (SpamAssassin's names, which
 * mail clients and Sieve scripts already test): X-Spam-Status (Yes when filed to Junk for anyone),
 * X-Spam-Score, and the symbols. Unchecked and skipped say so instead of a score.
 */
export function spamHeaders(decision: SpamDecision): string {
  const { check } = decision;
  if (check.status !== 'checked') {
    const why =
      check.status === 'unchecked' ? `unchecked reason=${headerSafe(check.error ?? 'error')}` : 'skipped';
    return `X-Spam-Status: ${why}\r\n`;
  }
  const verdict = decision.junkRecipients.length > 0 ? 'Yes' : 'No';
  const tests = check.symbols.map(symbolText).join(' ');
  const status = fold(
    `${verdict}, score=${check.score.toFixed(2)} required=${decision.rejectScore.toFixed(2)} ` +
      `action=${headerSafe(check.action).replace(/ /g, '_')}${tests ? ` tests=${headerSafe(tests)}` : ''}`,
  );
  return `X-Spam-Status: ${status}\r\nX-Spam-Score: ${check.score.toFixed(2)}\r\n${verdict === 'Yes' ? 'X-Spam-Flag: YES\r\n' : ''}`;
}

/** Removes the client's X-Spam-* fields (see SPAM_HEADER_NAMES) from a latin1 CRLF header block. */
export function withoutForgedSpamHeaders(headerBlock: string): string {
  const fields = headerBlock.match(/[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/g) ?? [];
  const consumed = fields.join('').length;
  const kept = fields.filter((field) => {
    const name = /^([^:\s]+)[ \t]*:/.exec(field)?.[1]?.toLowerCase();
    return !name || !SPAM_HEADER_NAMES.includes(name);
  });
  return kept.join('') + headerBlock.slice(consumed);
}

/** Rspamd's verdict plus the session's sender checks (only a verdict Rspamd gave gets them). */
function withSenderChecks(check: SpamCheck, found: SpamSymbol[]): SpamCheck {
  if (check.status !== 'checked' || found.length === 0) return check;
  const symbols = [...check.symbols, ...found].sort(
    (a, b) => Math.abs(b.score) - Math.abs(a.score) || a.name.localeCompare(b.name),
  );
  return { ...check, score: check.score + found.reduce((sum, s) => sum + s.score, 0), symbols };
}

/** A refusal after DATA with the verdict behind it (for the decision record). */
export class SpamRefusal extends SmtpReply {
  constructor(
    code: number,
    enhancedCode: string,
    text: string,
    reason: string,
    readonly check: SpamCheck,
  ) {
    super(code, enhancedCode, text, reason);
  }
}

/** The symbols as the decision record keeps them: name -> score. */
export function symbolScores(check: SpamCheck): Record<string, number> {
  return Object.fromEntries(check.symbols.map((symbol) => [symbol.name, round(symbol.score)]));
}

function skipped(): SpamCheck {
  return { status: 'skipped', action: '', score: 0, requiredScore: 0, symbols: [] };
}

function unchecked(error: string): SpamCheck {
  return { status: 'unchecked', action: '', score: 0, requiredScore: 0, symbols: [], error };
}

/** The most of Rspamd's JSON answer we read: a verdict is small, anything bigger is broken. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * POST /checkv2 (Rspamd's protocol: the message as the body, the envelope in headers). node:http and
 * not fetch: the message streams from the spool, and the one timeout covers connect, upload and answer.
 */
function askRspamd(
  config: SpamFilterConfig,
  message: () => Readable,
  envelope: SpamCheckEnvelope,
): Promise<SpamCheck> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (check: SpamCheck) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(check);
    };
    const url = new URL('/checkv2', config.url);
    const headers: Record<string, string | string[]> = {
      'Queue-Id': envelope.eventId,
      IP: envelope.clientIp,
      Rcpt: envelope.recipients,
    };
    if (envelope.mailFrom) headers.From = envelope.mailFrom;
    if (envelope.helo) headers.Helo = envelope.helo;
    if (envelope.clientHostname) headers.Hostname = envelope.clientHostname;
    if (envelope.user) headers.User = envelope.user;
    const send = url.protocol === 'https:' ? requestTls : request;
    const req = send(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy();
          return finish(unchecked('answer too large'));
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return finish(unchecked(`HTTP ${res.statusCode}`));
        finish(parseAnswer(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', (error) => finish(unchecked(error.message)));
    });
    const timer = setTimeout(() => {
      finish(unchecked('timeout'));
      req.destroy();
    }, config.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish(unchecked(error.code ?? error.message)));
    const body = message();
    body.on('error', (error) => {
      req.destroy(error);
      finish(unchecked(error.message));
    });
    body.pipe(req);
  });
}

function parseAnswer(text: string): SpamCheck {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return unchecked('answer is not JSON');
  }
  if (typeof answer !== 'object' || answer === null) return unchecked('answer is not an object');
  const { action, score, required_score: required, symbols } = answer as Record<string, unknown>;
  if (typeof action !== 'string' || typeof score !== 'number')
    return unchecked('answer without action or score');
  const scored: SpamSymbol[] = [];
  if (typeof symbols === 'object' && symbols !== null) {
    for (const [name, value] of Object.entries(symbols)) {
      const symbolScore = (value as { score?: unknown } | null)?.score;
      if (typeof symbolScore === 'number' && symbolScore !== 0) scored.push({ name, score: symbolScore });
    }
  }
  // Strongest first: a log line or header cut short still names what decided.
  scored.sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || a.name.localeCompare(b.name));
  return {
    status: 'checked',
    action,
    score,
    requiredScore: typeof required === 'number' ? required : score,
    symbols: scored,
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function symbolText(symbol: SpamSymbol): string {
  return `${symbol.name}(${round(symbol.score)})`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** What goes into our header fields: printable ASCII only (symbol names come from Rspamd's config). */
function headerSafe(text: string): string {
  return text.replace(/[^\x21-\x7e ]/g, '?').slice(0, 4000);
}

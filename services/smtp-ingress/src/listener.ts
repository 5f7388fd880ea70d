import { frontProxyHeaders } from '@correo/line-server';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { DecisionStage } from '@correo/store';
import { loginNameTooLong, MAX_LOGIN_NAME_BYTES, type LoginPolicy } from '@correo/auth';
import type { AccountRef } from '@correo/directory';
import type { AbuseDefence } from './abuse-defence.js';
import type { SmtpIngressConfig } from './config.js';
import type { DecisionFacts, IngressDecisions } from './decisions.js';
import { installConnectionHooks } from './connection-hooks.js';
import type { ConnectionGuard } from './connection-guard.js';
import type { OutboundQuota } from '@correo/limits';
import { chargeOutbound, checkRecipient, checkSender, type ListenerKind } from './envelope-policy.js';
import type { IngressBackends } from './ingress-backends.js';
import { receiveMessage, type SenderAuthenticationContext } from './message-intake.js';
import { ingressMetrics } from './metrics.js';
import { senderChecks, senderChecksHeader } from './session-checks.js';
import { SmtpReply, replies } from './smtp-reply.js';
import { SpamRefusal, symbolScores, type SpamFilter } from './spam-filter.js';

/** mx: port 25 role; submission: 587 (STARTTLS); submissions: 465 (implicit TLS). */
export type ListenerName = 'mx' | 'submission' | 'submissions';

export interface ListenerSetup {
  name: ListenerName;
  config: SmtpIngressConfig;
  backends: IngressBackends;
  guard: ConnectionGuard;
  topic: string;
  /** The sender checks of the MX listener; undefined where they do not run. */
  senderAuthentication?: SenderAuthenticationContext;
  /** The login policy shared with IMAP and POP3 (lockout, failure delay, metric, log). */
  loginPolicy: LoginPolicy;
  /** Load balancers whose PROXY header (v1 or v2) names the client (PROXY_TRUSTED_CIDRS). */
  trustedProxies: readonly string[];
  /** Rspamd after DATA; undefined when RSPAMD_URL is unset. */
  spamFilter?: SpamFilter;
  /** The hourly outbound limits of the authenticated account and its tenant (MAIL_OUTBOUND_*). */
  outboundQuota?: OutboundQuota | undefined;
  /** Limits, greylisting, DNS lists, HELO/rDNS checks at connect, MAIL and RCPT. */
  defence: AbuseDefence;
  /** Where every refusal is counted, logged and recorded (GET /v1/decisions). */
  decisions: IngressDecisions;
}

/** One smtp-server instance with correo's policy; not yet listening. */
export function createListener(setup: ListenerSetup): SMTPServer {
  const { name, config, backends, guard, topic, loginPolicy, defence, decisions } = setup;
  const { logger, directory } = backends;
  const kind: ListenerKind = name === 'mx' ? 'mx' : 'submission';
  const log = logger.child({ listener: name });

  const refuse = (
    reply: SmtpReply,
    stage: DecisionStage,
    session: SMTPServerSession,
    facts?: DecisionFacts,
  ) => {
    ingressMetrics.messagesRejected.inc({ listener: name, reason: reply.reason });
    ingressMetrics.refusalsByCode.inc({
      listener: name,
      code: `${reply.responseCode} ${reply.enhancedCode}`,
    });
    if (reply.reason === 'backend_error') log.error({ err: reply.cause }, reply.message);
    decisions.refused(name, stage, reply, session, facts);
    return reply;
  };
  const asReply = (error: unknown, stage: DecisionStage, session: SMTPServerSession, facts?: DecisionFacts) =>
    refuse(error instanceof SmtpReply ? error : replies.backendFailure(error), stage, session, facts);

  const options: SMTPServerOptions = {
    name: config.hostname,
    banner: 'correo',
    key: backends.tls.key,
    cert: backends.tls.cert,
    secure: name === 'submissions',
    size: config.maxMessageBytes,
    hideDSN: false,
    hideENHANCEDSTATUSCODES: false,
    hideREQUIRETLS: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: kind === 'mx' ? ['AUTH'] : [],
    authOptional: kind === 'mx',
    allowInsecureAuth: false,
    disableReverseLookup: true,
    maxClients: config.maxConnections,
    // Counted in onRcptTo (abuse-defence.ts), where the refusal is recorded like every other one.
    maxRecipients: 0,
    // A submission client that has not logged in gets 421 at its tenth command (auth-failures.test.ts);
    // stated here rather than left to smtp-server's default (which `false` cannot turn off either).
    maxAllowedUnauthenticatedCommands: 10,
    maxCommandLength: config.maxCommandLength,
    socketTimeout: config.idleTimeoutMs,
    // smtp-server reads the v1 line frontProxyHeaders hands it for every connection (see below).
    useProxy: setup.trustedProxies.length > 0,
    closeTimeout: Math.max(config.shutdownTimeoutMs, 1),
    logger: false,

    onConnect(session, callback) {
      const admit = async (): Promise<SmtpReply | null> => {
        const refusal = await guard.admit(session.id, session.remoteAddress);
        if (refusal) return refusal;
        try {
          const listed = await defence.atConnect(kind, session);
          // Admitted by the guard, refused by a DNS list: the slot goes back now.
          if (listed) guard.release(session.id);
          return listed;
        } catch (error) {
          guard.release(session.id);
          throw error;
        }
      };
      admit().then(
        (refusal) => {
          if (refusal) {
            ingressMetrics.connectionsRefused.inc({ listener: name, reason: refusal.reason });
            decisions.refused(name, 'connect', refusal, session);
            return callback(refusal);
          }
          ingressMetrics.connections.inc({ listener: name });
          ingressMetrics.activeConnections.inc({ listener: name });
          callback();
        },
        (error: unknown) => callback(asReply(error, 'connect', session)),
      );
    },

    // After the TLS handshake, implicit (465) or STARTTLS.
    onSecure(_socket, _session, callback) {
      ingressMetrics.tlsSessions.inc({ listener: name });
      callback();
    },

    onClose(session) {
      hooks.sessionClosed(session.id);
      if (guard.release(session.id)) ingressMetrics.activeConnections.dec({ listener: name });
    },

    onAuth(auth, session, callback) {
      // smtp-server runs the SASL exchange (PLAIN, LOGIN) and answers 504 to other mechanisms itself;
      // AUTH before TLS is refused by allowInsecureAuth: false (and the loopback hook). The policy does the rest.
      const login = auth.username ?? '';
      const ip = session.remoteAddress;
      if (loginNameTooLong(login)) {
        loginPolicy.refused('smtp', ip, 'login name too long');
        return callback(null, {
          message: `5.5.2 Login names are limited to ${MAX_LOGIN_NAME_BYTES} octets`,
          responseCode: 501,
        });
      }
      const attempt = { protocol: 'smtp' as const, login, password: auth.password ?? '', ip };
      loginPolicy.attempt(directory, { ...attempt, authorizationId: auth.authzid }).then(
        (outcome) => {
          if (outcome.kind === 'unauthorized') {
            return callback(null, {
              message: '5.7.8 Not authorized to act as another identity',
              responseCode: 535,
            });
          }
          // Locked out or wrong: one answer, after the same wait, so the reply tells a guesser nothing.
          if (outcome.kind === 'rejected') {
            return callback(null, { message: '5.7.8 Authentication credentials invalid', responseCode: 535 });
          }
          callback(null, { user: outcome.account satisfies AccountRef });
        },
        (error: unknown) => callback(replies.authBackendFailure(error)),
      );
    },

    onMailFrom(address, session, callback) {
      checkSender(kind, address, session, directory)
        .then(() => defence.atMail(kind, session))
        .then(
          () => callback(),
          (error: unknown) => callback(asReply(error, 'mail', session, { mailFrom: address.address })),
        );
    },

    onRcptTo(address, session, callback) {
      Promise.resolve()
        .then(() => defence.checkRecipientCount(session, address))
        .then(() => checkRecipient(kind, address, config.hostname, directory))
        .then(async (where) => {
          await defence.atRcpt(kind, session, address);
          await chargeOutbound(setup.outboundQuota, where, session, address);
        })
        .then(
          () => callback(),
          (error: unknown) => callback(asReply(error, 'rcpt', session, { recipient: address.address })),
        );
    },

    onData(stream, session, callback) {
      receiveMessage(stream, session, {
        bus: backends.bus,
        blobs: backends.blobs,
        topic,
        hostname: config.hostname,
        maxMessageBytes: config.maxMessageBytes,
        maxHeaderBytes: config.maxHeaderBytes,
        maxLineLength: config.maxLineLength,
        inlineBodyBytes: config.inlineBodyBytes,
        kind,
        directory,
        senderAuthentication: kind === 'mx' ? setup.senderAuthentication : undefined,
        senderChecksHeader: senderChecksHeader(senderChecks(session)),
        watchData: (data) => hooks.watchData(session.id, data),
        spam: setup.spamFilter && {
          filter: setup.spamFilter,
          spoolDir: config.senderAuthentication.spoolDir,
        },
      }).then(
        (accepted) => {
          ingressMetrics.messagesAccepted.inc({ listener: name });
          ingressMetrics.acceptedBytes.inc({ listener: name }, accepted.blob.size);
          for (const result of accepted.authentication?.results ?? []) {
            ingressMetrics.senderAuthentication.inc({ method: result.method, result: result.result });
          }
          const spam = accepted.spam;
          if (spam?.outcome === 'junk') {
            // Accepted, but filed into Junk for these recipients: recorded like a refusal (GET /v1/decisions).
            decisions.decide(name, session, {
              stage: 'data',
              outcome: 'junk',
              reason: 'spam-score',
              detail: `spam score ${spam.check.score.toFixed(2)}: filed into Junk for ${spam.junkRecipients.join(', ')}`,
              eventId: accepted.eventId,
              recipients: spam.junkRecipients,
              score: spam.check.score,
              symbols: symbolScores(spam.check),
            });
          }
          log.info(
            {
              eventId: accepted.eventId,
              blobKey: accepted.blob.key,
              size: accepted.blob.size,
              authentication: accepted.authentication?.results.map((r) => `${r.method}=${r.result}`),
              spam: accepted.spam && `${accepted.spam.outcome} ${accepted.spam.check.score}`,
            },
            'message accepted',
          );
          callback(null, `2.0.0 Ok: queued as ${accepted.eventId}`);
        },
        (error: unknown) =>
          callback(
            asReply(
              error,
              'data',
              session,
              error instanceof SpamRefusal
                ? { score: error.check.score, symbols: symbolScores(error.check) }
                : undefined,
            ),
          ),
      );
    },
  };

  const server = new SMTPServer(options);
  if (setup.trustedProxies.length > 0) {
    frontProxyHeaders(server.server, {
      trustedProxies: setup.trustedProxies,
      timeoutMs: config.idleTimeoutMs,
      logger: log,
    });
  }
  const hooks = installConnectionHooks(server, {
    allowPlaintextAuthOnLoopback: kind === 'submission' && config.allowPlaintextAuthOnLoopback,
    sessionTimeoutMs: config.sessionTimeoutMs,
    minTransferRate: config.minTransferRate,
    transferRateWindowMs: config.transferRateWindowMs,
  });
  server.on('error', (error) => log.warn({ err: error }, 'smtp connection error'));
  return server;
}

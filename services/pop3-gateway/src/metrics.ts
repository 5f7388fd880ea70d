import { metrics } from '@correo/telemetry';

/** Labels: `listener` is pop3 or pop3s; `result` of a login is ok, failed, locked-out, in-use or error. */
export const pop3Metrics = {
  connections: metrics.counter<'listener'>({
    name: 'correo_pop3_connections_total',
    help: 'POP3 connections accepted by a listener.',
    labelNames: ['listener'],
  }),
  activeConnections: metrics.gauge<'listener'>({
    name: 'correo_pop3_active_connections',
    help: 'POP3 connections open now.',
    labelNames: ['listener'],
  }),
  connectionsRefused: metrics.counter<'listener' | 'reason'>({
    name: 'correo_pop3_connections_refused_total',
    help: 'POP3 connections refused before a session: per-ip, total, proxy, tls, shutdown.',
    labelNames: ['listener', 'reason'],
  }),
  logins: metrics.counter<'result'>({
    name: 'correo_pop3_logins_total',
    help: 'POP3 login attempts (USER/PASS and AUTH PLAIN) by result.',
    labelNames: ['result'],
  }),
  messagesRetrieved: metrics.counter({
    name: 'correo_pop3_messages_retrieved_total',
    help: 'Messages sent in full by RETR.',
  }),
  retrievedBytes: metrics.counter({
    name: 'correo_pop3_retrieved_bytes_total',
    help: 'Message octets sent by RETR and TOP, before dot-stuffing.',
  }),
  messagesDeleted: metrics.counter({
    name: 'correo_pop3_messages_deleted_total',
    help: 'Messages expunged in the UPDATE state after QUIT.',
  }),
};

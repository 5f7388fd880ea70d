import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Outgoing } from '../api-types.js';
import { sendDraft } from '../compose.js';
import { openMessage } from '../open-message.js';
import { WebmailError } from '../webmail-error.js';

const addressList = {
  type: 'array',
  maxItems: 100,
  items: { type: 'string', minLength: 3, maxLength: 320 },
} as const;

const sendBody = {
  type: 'object',
  required: ['to', 'subject', 'text'],
  additionalProperties: false,
  properties: {
    to: addressList,
    cc: addressList,
    bcc: addressList,
    subject: { type: 'string', maxLength: 998 },
    text: { type: 'string', maxLength: 10 * 1024 * 1024 },
    inReplyTo: {
      type: 'object',
      required: ['folder', 'uid'],
      additionalProperties: false,
      properties: {
        folder: { type: 'string', minLength: 1, maxLength: 1000 },
        uid: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

// What a person types in a To field; the submission server has the final word on each address.
const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

export async function sendRoutes(app: FastifyInstance, { logger }: { logger: Logger }) {
  app.post<{ Body: Outgoing }>('/api/send', { schema: { body: sendBody } }, async (request) => {
    const { body } = request;
    const to = body.to.map((a) => a.trim());
    const cc = (body.cc ?? []).map((a) => a.trim());
    const bcc = (body.bcc ?? []).map((a) => a.trim());
    const invalid = [...to, ...cc, ...bcc].find((address) => !ADDRESS.test(address));
    if (invalid !== undefined) {
      throw new WebmailError(400, 'invalid_address', `"${invalid}" is not an email address.`);
    }
    const account = request.webmail.account;
    let inReplyTo;
    if (body.inReplyTo) {
      const { view } = await openMessage(request.webmail, body.inReplyTo.folder, body.inReplyTo.uid);
      inReplyTo = { ...body.inReplyTo, messageId: view.messageId, references: view.references };
    }
    const sent = await sendDraft(
      account,
      { to, cc, bcc, subject: body.subject, text: body.text, ...(inReplyTo ? { inReplyTo } : {}) },
      logger,
    );
    return { sent: true, messageId: sent.messageId };
  });
}

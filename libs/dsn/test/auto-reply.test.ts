import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { buildRejectionNotice, buildVacationReply } from '../src/index.js';

const original = Buffer.from(
  [
    'From: Ana <ana@far.test>',
    'To: yo@miemail.test',
    'Subject: ¿comemos el viernes?',
    'Message-ID: <m1@far.test>',
    'References: <m0@far.test>',
    '',
    'the body must not be quoted',
    '',
  ].join('\r\n'),
);
const common = {
  from: 'yo@miemail.test',
  to: 'ana@far.test',
  original,
  date: new Date('2026-12-05T02:00:00Z'),
  messageId: 'r1@miemail.test',
};

test('a vacation reply: RFC 3834 headers, threading, UTF-8 subject and text; the same bytes every time', async () => {
  const input = {
    ...common,
    subject: 'Auto: ¿comemos el viernes?',
    reason: 'Fuera hasta el lunes.\nÀ bientôt.',
    mime: false,
  };
  const raw = buildVacationReply(input);
  assert.deepEqual(buildVacationReply(input), raw, 'deterministic: a redelivery builds the same blob');
  assert.ok(
    raw
      .toString('latin1')
      .split('\r\n')
      .every((line) => line.length <= 998),
  );
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, 'Auto: ¿comemos el viernes?');
  assert.equal(parsed.from?.value[0]?.address, 'yo@miemail.test');
  assert.equal(parsed.inReplyTo, '<m1@far.test>');
  assert.deepEqual(parsed.references, ['<m0@far.test>', '<m1@far.test>']);
  assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
  assert.equal(parsed.messageId, '<r1@miemail.test>');
  assert.equal(parsed.text?.trim(), 'Fuera hasta el lunes.\nÀ bientôt.');
  assert.ok(!raw.toString().includes('must not be quoted'));
});

test('vacation :mime: the script’s MIME entity is the body, with its own header fields', async () => {
  const entity = [
    'Content-Type: multipart/alternative; boundary=XX',
    '',
    '--XX',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Away.',
    '--XX',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Away.</p>',
    '--XX--',
  ].join('\n');
  const parsed = await simpleParser(
    buildVacationReply({ ...common, subject: 'Away', reason: entity, mime: true }),
  );
  assert.equal(parsed.text?.trim(), 'Away.');
  assert.equal(parsed.html && parsed.html.trim(), '<p>Away.</p>');
  assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
});

test('a rejection notice is an MDN (RFC 5429 2.1, RFC 8098) with the reason and the original headers only', async () => {
  const raw = buildRejectionNotice({
    ...common,
    from: 'postmaster@miemail.test',
    reportingUa: 'miemail.test',
    finalRecipient: 'yo@miemail.test',
    reason: 'No mail from you, please.',
  });
  const text = raw.toString();
  assert.match(text, /^Content-Type: multipart\/report; report-type=disposition-notification;/m);
  assert.match(text, /^Auto-Submitted: auto-replied \(rejected\)$/m);
  assert.match(text, /^Disposition: automatic-action\/MDN-sent-automatically; deleted$/m);
  assert.match(text, /^Original-Message-ID: <m1@far\.test>$/m);
  assert.match(text, /^Final-Recipient: rfc822; yo@miemail\.test$/m);
  assert.ok(!text.includes('must not be quoted'), 'no body of the original');
  const parsed = await simpleParser(raw);
  assert.match(parsed.text ?? '', /was automatically rejected:\s+No mail from you, please\./);
  assert.equal(parsed.inReplyTo, '<m1@far.test>');
});

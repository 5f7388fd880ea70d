import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { buildDsn, deliveryStatusBody, parseDsn } from '../src/index.js';

const original = Buffer.from(
  [
    'From: Yo <yo@miemail.test>',
    'To: el@suemail.test',
    'Subject: hola',
    'Message-ID: <abc@miemail.test>',
    '',
    'the body must not be returned',
    '',
  ].join('\r\n'),
);

test('a failure DSN is a multipart/report with delivery-status and the original headers only', async () => {
  const raw = buildDsn({
    reportingMta: 'mx.miemail.test',
    to: 'yo@miemail.test',
    original,
    originalEnvelopeId: 'env-1',
    arrivalDate: new Date('2026-11-26T06:00:00Z'),
    recipients: [
      {
        finalRecipient: 'el@suemail.test',
        originalRecipient: 'rfc822;el@suemail.test',
        action: 'failed',
        status: '5.1.1',
        remoteMta: 'mx1.suemail.test',
        diagnosticCode: '550 5.1.1 no such user',
      },
    ],
  });
  const text = raw.toString('utf8');
  assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status; boundary=/m);
  const parsed = await simpleParser(raw);
  assert.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.address : '', 'yo@miemail.test');
  assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
  assert.equal(parsed.inReplyTo, '<abc@miemail.test>');
  const report = parseDsn(raw);
  assert.deepEqual(report.partTypes, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  assert.equal(report.message['reporting-mta'], 'dns; mx.miemail.test');
  assert.equal(report.message['original-envelope-id'], 'env-1');
  assert.equal(report.message['arrival-date'], 'Thu, 26 Nov 2026 06:00:00 +0000');
  assert.deepEqual(report.recipients, [
    {
      'original-recipient': 'rfc822;el@suemail.test',
      'final-recipient': 'rfc822;el@suemail.test',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mx1.suemail.test',
      'diagnostic-code': 'smtp; 550 5.1.1 no such user',
    },
  ]);
  assert.match(report.returnedHeaders ?? '', /^Subject: hola\r$/m);
  assert.doesNotMatch(text, /the body must not be returned/);
  assert.match(parsed.text ?? '', /<el@suemail\.test> could not be delivered \(5\.1\.1\)/);
});

test('parseDsn refuses what is not a report', () => {
  assert.throws(() => parseDsn(original), /not a multipart\/report/);
});

test('a remote reply with line breaks cannot inject fields', () => {
  const body = deliveryStatusBody({
    reportingMta: 'mx.test',
    recipients: [
      {
        finalRecipient: 'a@b.test',
        action: 'failed',
        status: '5.0.0',
        diagnosticCode: '550 no\r\nAction: delivered',
      },
    ],
  });
  assert.equal(body.match(/^Action:/gm)?.length, 1);
  assert.match(body, /Diagnostic-Code: smtp; 550 no Action: delivered/);
});

test('status codes outside RFC 3463 and empty recipient lists are refused', () => {
  assert.throws(() =>
    deliveryStatusBody({
      reportingMta: 'mx.test',
      recipients: [{ finalRecipient: 'a@b.test', action: 'failed', status: '550' }],
    }),
  );
  assert.throws(() => deliveryStatusBody({ reportingMta: 'mx.test', recipients: [] }));
});

test('a message with bare LF line ends still yields a CRLF header section', async () => {
  const raw = buildDsn({
    reportingMta: 'mx.test',
    to: 'a@b.test',
    original: Buffer.from('Subject: lf\nFrom: a@b.test\n\nbody\n'),
    recipients: [{ finalRecipient: 'c@d.test', action: 'delayed', status: '4.4.1' }],
  });
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, 'Delayed Mail (still being retried)');
  const report = parseDsn(raw);
  assert.equal(report.returnedHeaders, 'Subject: lf\r\nFrom: a@b.test\r\n');
  assert.equal(report.recipients[0]?.action, 'delayed');
});

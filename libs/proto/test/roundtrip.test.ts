import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  create,
  decodeDeadLetter,
  fromBinary,
  toBinary,
  decodeMailAccepted,
  decodeOutboundMessage,
  DeadLetterSchema,
  DsnNotify,
  DsnReturn,
  encodeDeadLetter,
  encodeMailAccepted,
  encodeOutboundMessage,
  MailAcceptedSchema,
  type MailAcceptedInit,
  OutboundMessageSchema,
  SubmissionKind,
  timestampDate,
  timestampFromDate,
} from '../src/index.js';

const receivedAt = new Date('2026-11-26T05:00:00.123Z');

describe('MailAccepted', () => {
  test('a submission round-trips with every field', () => {
    const event = create(MailAcceptedSchema, {
      eventId: '0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b',
      receivedAt: timestampFromDate(receivedAt),
      clientIp: '2001:db8::25',
      helo: 'laptop.miemail.test',
      authenticatedUser: 'yo@miemail.test',
      mailFrom: 'yo@miemail.test',
      recipients: [
        {
          address: 'el@suemail.test',
          originalRecipient: 'rfc822;el@suemail.test',
          notify: [DsnNotify.FAILURE, DsnNotify.DELAY],
        },
        { address: 'ella@suemail.test' },
      ],
      blobKey: 'sha256/ab/abcdef',
      size: 5_000_000_000n,
      sha256: 'ab'.repeat(32),
      authenticationResults: {
        header: 'mx.suemail.test; spf=pass smtp.mailfrom=miemail.test; dkim=pass header.d=miemail.test',
        results: [
          { method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'miemail.test' } },
          {
            method: 'dkim',
            result: 'pass',
            reason: 'good signature',
            properties: { 'header.d': 'miemail.test' },
          },
          { method: 'dmarc', result: 'pass' },
          { method: 'arc', result: 'none' },
        ],
      },
      kind: SubmissionKind.SUBMISSION,
      port: 587,
      smtputf8: true,
      eightBitMime: true,
      dsn: { ret: DsnReturn.HEADERS, envelopeId: 'QQ314159' },
    });

    const decoded = decodeMailAccepted(encodeMailAccepted(event));

    assert.deepEqual(decoded, event);
    assert.equal(decoded.size, 5_000_000_000n, 'sizes above 2^32 survive');
    assert.equal(timestampDate(decoded.receivedAt!).toISOString(), receivedAt.toISOString());
    assert.deepEqual(decoded.recipients[0]?.notify, [DsnNotify.FAILURE, DsnNotify.DELAY]);
  });

  test('a bounce keeps its null reverse-path and no authenticated user', () => {
    const decoded = decodeMailAccepted(
      encodeMailAccepted({
        eventId: 'e1',
        mailFrom: '',
        kind: SubmissionKind.MX,
        port: 25,
        recipients: [{ address: 'a@b.test' }],
      }),
    );
    assert.equal(decoded.mailFrom, '');
    assert.equal(decoded.authenticatedUser, '');
    assert.equal(decoded.kind, SubmissionKind.MX);
  });

  test('bytes that are not a MailAccepted are refused', () => {
    // Field 1 declared length-delimited with a length running past the end of the buffer.
    assert.throws(() => decodeMailAccepted(new Uint8Array([0x0a, 0x10, 0x41])));
  });
});

describe('OutboundMessage', () => {
  test('a retry of a bounce round-trips', () => {
    const job = create(OutboundMessageSchema, {
      eventId: 'out-2',
      originalEventId: 'in-1',
      mailFrom: '',
      destinationDomain: 'xn--bcher-kva.test',
      recipients: [{ address: 'a@xn--bcher-kva.test' }, { address: 'b@xn--bcher-kva.test' }],
      blobKey: 'sha256/cd/cdef',
      size: 1234n,
      sha256: 'cd'.repeat(32),
      attempt: 3,
      notBefore: timestampFromDate(new Date('2026-11-26T06:00:00Z')),
      queuedAt: timestampFromDate(receivedAt),
      lastError: '451 4.7.1 greylisted',
      dsn: { ret: DsnReturn.FULL },
      isBounce: true,
      smtputf8: false,
      eightBitMime: true,
    });

    const decoded = decodeOutboundMessage(encodeOutboundMessage(job));

    assert.deepEqual(decoded, job);
    assert.equal(decoded.isBounce, true);
    assert.equal(decoded.attempt, 3);
  });
});

describe('DeadLetter', () => {
  test('a record with binary key, headers and value round-trips', () => {
    const value = encodeMailAccepted({ eventId: 'poison' });
    const letter = create(DeadLetterSchema, {
      originalTopic: 'mail.accepted',
      partition: 7,
      offset: '9007199254740993',
      key: new Uint8Array([0, 255, 1]),
      headers: { traceparent: new TextEncoder().encode('00-abc-def-01'), empty: new Uint8Array() },
      value,
      error: 'Error: mailbox missing\n    at deliver',
      attempts: 5,
      failedAt: timestampFromDate(receivedAt),
      consumerGroup: 'mda',
    });

    const decoded = decodeDeadLetter(encodeDeadLetter(letter));

    assert.deepEqual(decoded, letter);
    assert.equal(decoded.offset, '9007199254740993', 'offsets beyond 2^53 keep every digit');
    assert.equal(decodeMailAccepted(decoded.value).eventId, 'poison');
  });

  test('a record without a key stays keyless', () => {
    const decoded = decodeDeadLetter(encodeDeadLetter({ originalTopic: 't', value: new Uint8Array([1]) }));
    assert.equal(decoded.key, undefined);
  });
});

describe('MailAccepted with a body and an analysis (the large bytes fields)', () => {
  const large = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * seed) & 0xff);

  const cases: [string, MailAcceptedInit['spam']][] = [
    ['without a spam verdict', undefined],
    [
      'with a spam verdict (field 21 before them)',
      { status: 'checked', action: 'no action', score: 1.5, symbols: ['A(1)'] },
    ],
  ];
  for (const [name, spam] of cases) {
    test(`decodes as the library's own encoding does, ${name}`, () => {
      const event = create(MailAcceptedSchema, {
        eventId: 'big-1',
        recipients: [{ address: 'a@b.test' }],
        blobKey: 'ab'.repeat(32),
        size: 200_000n,
        sha256: 'ab'.repeat(32),
        analysis: large(3_000, 7),
        body: large(200_000, 13),
        spam,
        kind: SubmissionKind.MX,
        port: 25,
      });
      const encoded = encodeMailAccepted(event);
      const decoded = decodeMailAccepted(encoded);
      assert.deepEqual(decoded, event);
      assert.deepEqual(decoded, fromBinary(MailAcceptedSchema, toBinary(MailAcceptedSchema, event)));
      assert.equal(encoded.length, toBinary(MailAcceptedSchema, event).length, 'the same size as toBinary');
      if (!spam)
        assert.deepEqual(encoded, toBinary(MailAcceptedSchema, event), 'byte for byte without field 21');
    });
  }

  test('a body alone, and an analysis alone', () => {
    for (const init of [{ body: large(5_000, 3) }, { analysis: large(5_000, 5) }]) {
      const event = create(MailAcceptedSchema, { eventId: 'big-2', ...init });
      assert.deepEqual(decodeMailAccepted(encodeMailAccepted(event)), event);
      assert.deepEqual(encodeMailAccepted(event), toBinary(MailAcceptedSchema, event));
    }
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  create,
  decodeDeadLetter,
  decodeMailAccepted,
  decodeOutboundMessage,
  DsnNotify,
  DsnReturn,
  encodeMailAccepted,
  MailAcceptedSchema,
  SubmissionKind,
  toBinary,
  DeadLetterSchema,
  OutboundMessageSchema,
} from '../src/index.js';
import type { MailAcceptedInit } from '../src/index.js';

// Any Unicode scalar value: proto3 strings are UTF-8, so lone surrogates cannot be sent at all.
const text = fc.string({ unit: 'binary', maxLength: 40 });
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
// Proto3 enums are open: numbers this build does not know yet must survive a hop through the bus.
const openEnum = (known: number[]) =>
  fc.oneof(fc.constantFrom(...known), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

const timestamp = fc.record({
  seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
  nanos: fc.integer({ min: 0, max: 999_999_999 }),
});

const recipient = fc.record({
  address: text,
  originalRecipient: text,
  notify: fc.array(openEnum([DsnNotify.NEVER, DsnNotify.SUCCESS, DsnNotify.FAILURE, DsnNotify.DELAY]), {
    maxLength: 4,
  }),
});

const authenticationResult = fc.record({
  method: fc.constantFrom('spf', 'dkim', 'dmarc', 'arc', 'auth'),
  result: text,
  reason: text,
  properties: fc.dictionary(
    fc.constantFrom('smtp.mailfrom', 'header.d', 'header.i', 'smtp.helo', 'policy.dmarc'),
    text,
    {
      noNullPrototype: true,
    },
  ),
});

const mailAccepted: fc.Arbitrary<MailAcceptedInit> = fc.record(
  {
    eventId: fc.uuid(),
    receivedAt: timestamp,
    clientIp: fc.oneof(fc.ipV4(), fc.ipV6()),
    helo: text,
    authenticatedUser: text,
    mailFrom: text,
    recipients: fc.array(recipient, { maxLength: 5 }),
    blobKey: text,
    size: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
    authenticationResults: fc.record({
      header: text,
      results: fc.array(authenticationResult, { maxLength: 4 }),
    }),
    kind: openEnum([SubmissionKind.MX, SubmissionKind.SUBMISSION]),
    port: uint32,
    smtputf8: fc.boolean(),
    eightBitMime: fc.boolean(),
    dsn: fc.record({ ret: openEnum([DsnReturn.FULL, DsnReturn.HEADERS]), envelopeId: text }),
  },
  { requiredKeys: ['eventId'] },
);

test('every MailAccepted survives encode then decode unchanged', () => {
  fc.assert(
    fc.property(mailAccepted, (init) => {
      const event = create(MailAcceptedSchema, init);
      assert.deepEqual(decodeMailAccepted(encodeMailAccepted(event)), event);
    }),
    { numRuns: 500 },
  );
});

// A poison record on the bus must end in an exception the consumer can dead-letter, never a hang
// or a crash; whatever does decode must be stable once re-encoded.
const decoders = [
  { name: 'MailAccepted', decode: decodeMailAccepted, schema: MailAcceptedSchema },
  { name: 'OutboundMessage', decode: decodeOutboundMessage, schema: OutboundMessageSchema },
  { name: 'DeadLetter', decode: decodeDeadLetter, schema: DeadLetterSchema },
] as const;

for (const { name, decode, schema } of decoders) {
  test(
    `decoding random bytes as ${name} either throws or yields a stable message`,
    { timeout: 60_000 },
    () => {
      let decodedCount = 0;
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
          let message;
          try {
            message = decode(bytes);
          } catch (error) {
            assert.ok(error instanceof Error, 'decoders throw Error instances');
            return;
          }
          decodedCount++;
          assert.equal(message.$typeName, schema.typeName);
          // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the union of the three schemas is not callable
          const again = decode(toBinary(schema as any, message));
          assert.deepEqual(again, message);
        }),
        { numRuns: 2000 },
      );
      assert.ok(decodedCount > 0, 'some random inputs (at least the empty one) decode');
    },
  );
}

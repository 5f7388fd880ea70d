import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import {
  SUMMARY_WIRE_VERSION,
  analyzeMessage,
  decodeSummaryWire,
  encodeSummaryWire,
  messageSummary,
} from '../src/index.js';
import { crlf } from './fixtures.js';

const message = crlf([
  'From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.test>',
  'To: ana@example.test',
  'Subject: Presupuesto',
  'Date: Fri, 04 Dec 2026 10:11:12 +0100',
  'Message-ID: <wire@example.test>',
  'Content-Type: multipart/mixed; boundary=b',
  '',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Las cifras del trimestre.',
  '--b',
  'Content-Type: application/pdf; name=a.pdf',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--b--',
  '',
]);

describe('the summary carried in mail.accepted', () => {
  test('decodes to exactly the summary it encoded, Date included', async () => {
    const summary = messageSummary(await analyzeMessage(Readable.from([message])));
    const decoded = decodeSummaryWire(encodeSummaryWire(summary));
    // Every field as it was, so the mda files what it would have computed from the blob.
    assert.deepEqual(decoded, summary);
    assert.ok(decoded?.date instanceof Date);
    assert.equal(decoded?.date?.toISOString(), '2026-12-04T09:11:12.000Z');
    assert.equal(decoded?.sha256, summary.sha256);
  });

  test('is left out when larger than the cap, and unknown versions or garbage decode to nothing', async () => {
    const summary = messageSummary(await analyzeMessage(Readable.from([message])));
    assert.equal(encodeSummaryWire(summary, 100).byteLength, 0);
    assert.equal(decodeSummaryWire(new Uint8Array(0)), undefined);
    const other = Buffer.from(JSON.stringify({ v: SUMMARY_WIRE_VERSION + 1, s: summary }));
    assert.equal(decodeSummaryWire(other), undefined);
    assert.equal(decodeSummaryWire(Buffer.from('{not json')), undefined);
    assert.equal(
      decodeSummaryWire(Buffer.from(JSON.stringify({ v: SUMMARY_WIRE_VERSION, s: 'x' }))),
      undefined,
    );
  });

  test('a damaged ENVELOPE or BODYSTRUCTURE decodes to nothing (the mda analyses the blob)', async () => {
    const summary = messageSummary(await analyzeMessage(Readable.from([message])));
    const carried = (s: object) => Buffer.from(JSON.stringify({ v: SUMMARY_WIRE_VERSION, s }));
    assert.equal(decodeSummaryWire(carried({ ...summary, envelope: { subject: 5 } })), undefined);
    const root = { ...summary.bodystructure, offsets: { headerStart: 0 } };
    assert.equal(decodeSummaryWire(carried({ ...summary, bodystructure: root })), undefined);
  });
});

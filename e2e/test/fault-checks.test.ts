import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeRemoteCopies } from '../faults/checks.js';
import { acceptanceOf } from './support/remote-mx.js';

// The fault run's judgement of what the remote site got (e2e/faults/checks.ts). Seed 109 reported a
// remote duplicate: two copies of a message, 3 s apart, as smtp-ingress#2 was killed. Its sender had
// lost the 250 of its first try with the connection and sent the message again (RFC 1047), so the
// remote got a copy of each acceptance: the run counts that apart for local mailboxes, and must for
// the remote site too, while one acceptance delivered twice stays a duplicate.

const received = (eventId: string) =>
  'DKIM-Signature: v=1; a=rsa-sha256; d=faults.test; s=s1; h=from:to; bh=x; b=y\r\n' +
  'Received: from load.faults.test (localhost [127.0.0.1])\r\n' +
  `\tby mx.faults.test (correo) with ESMTPSA id ${eventId} (TLSv1.3 TLS_AES_256_GCM_SHA384)\r\n` +
  '\tfor <two@far.test>;\r\n\tSat, 05 Dec 2026 07:36:14 +0000\r\n' +
  'Message-ID: <663ea122@load.faults.test>';

test('the acceptance a remote copy came from is the id in correo’s Received header', () => {
  assert.equal(
    acceptanceOf(received('0b9a6c1e-5d7f-4f0e-9a51-3e4c2b1d0a99')),
    '0b9a6c1e-5d7f-4f0e-9a51-3e4c2b1d0a99',
  );
  assert.equal(
    acceptanceOf('Received: from a by b (correo) with ESMTP id e-1;\r\n\tSat, 05 Dec 2026 07:36:14 +0000'),
    'e-1',
  );
  assert.equal(acceptanceOf('Received: from a by b (Postfix) with ESMTP id 4XyZ\r\nSubject: x'), '');
});

test('two copies from two acceptances of a message whose first 250 was lost are its sender’s resend', () => {
  const twoAcceptances = [
    { at: 1, acceptance: 'event-1' },
    { at: 2, acceptance: 'event-2' },
  ];
  assert.equal(judgeRemoteCopies(twoAcceptances, true), 'resent');
  // Without a lost 250 the sender sent it once: a second acceptance is ours to explain.
  assert.equal(judgeRemoteCopies(twoAcceptances, false), 'duplicate');
});

test('one acceptance delivered twice is a duplicate, lost 250 or not', () => {
  const sameAcceptance = [
    { at: 1, acceptance: 'event-1' },
    { at: 2, acceptance: 'event-1' },
  ];
  assert.equal(judgeRemoteCopies(sameAcceptance, true), 'duplicate');
  assert.equal(judgeRemoteCopies(sameAcceptance, false), 'duplicate');
  // Copies whose acceptance cannot be told apart are not excused either.
  assert.equal(
    judgeRemoteCopies(
      [
        { at: 1, acceptance: '' },
        { at: 2, acceptance: 'event-2' },
      ],
      true,
    ),
    'duplicate',
  );
  assert.equal(judgeRemoteCopies([{ at: 1, acceptance: 'event-1' }], true), 'once');
  assert.equal(judgeRemoteCopies([], true), 'none');
});

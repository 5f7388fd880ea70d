import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeOutgoingHtml } from '../src/sanitize-html.js';
import { Uploads } from '../src/uploads.js';
import { WebmailError } from '../src/webmail-error.js';
import { HOSTILE_MAILS } from './fixtures/hostile-html.js';

test('outgoing rich text keeps what the editor makes and nothing that acts, loads or tracks', () => {
  const kept = sanitizeOutgoingHtml(
    '<div>Hi <b>all</b>, <i>see</i> <u>this</u>:</div><ul><li>one</li></ul><blockquote>quoted</blockquote>' +
      '<a href="https://example.org/a">link</a> <a href="mailto:x@example.org">mail</a>',
  );
  for (const part of [
    '<b>all</b>',
    '<i>see</i>',
    '<u>this</u>',
    '<li>one</li>',
    '<blockquote>quoted</blockquote>',
  ]) {
    assert.ok(kept.includes(part), part);
  }
  assert.match(kept, /<a href="https:\/\/example\.org\/a">link<\/a>/);
  assert.match(kept, /<a href="mailto:x@example\.org">mail<\/a>/);
  for (const mail of HOSTILE_MAILS) {
    const clean = sanitizeOutgoingHtml(mail.html.replaceAll('FOREIGN', 'http://tracker.example'));
    assert.ok(clean.includes(mail.marker), `${mail.name}: the text stays`);
    assert.doesNotMatch(
      clean,
      /<(?!\/?(?:a|b|strong|i|em|u|s|p|br|div|span|ul|ol|li|blockquote|pre|code|h[1-3]|hr)\b)/i,
      mail.name,
    );
    assert.doesNotMatch(clean, /\s(?:on[a-z]+|style|class|id|src)\s*=/i, mail.name);
    // Nothing the recipient's client would fetch: no image, no CSS url(); links stay links.
    assert.doesNotMatch(clean, /<img|url\(/i, mail.name);
    assert.doesNotMatch(clean, /javascript:|data:/i, mail.name);
  }
});

test('uploads of a session are bounded by twice the message limit and freed on removal', () => {
  const uploads = new Uploads(1000);
  const first = uploads.add('a.bin', 'application/octet-stream', Buffer.alloc(900));
  uploads.add('b.bin', 'application/octet-stream', Buffer.alloc(900));
  assert.throws(
    () => uploads.add('c.bin', 'application/octet-stream', Buffer.alloc(300)),
    (error: unknown) =>
      error instanceof WebmailError && error.statusCode === 413 && error.code === 'too_many_uploads',
  );
  assert.equal(uploads.remove(first.id), true);
  assert.equal(uploads.remove(first.id), false);
  assert.equal(uploads.bytes, 900);
  uploads.add('c.bin', 'application/octet-stream', Buffer.alloc(300));
  assert.equal(uploads.bytes, 1200);
});

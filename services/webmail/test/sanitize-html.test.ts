import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageBodyPolicy, sanitizeHtml } from '../src/sanitize-html.js';
import { HOSTILE_MAILS } from './fixtures/hostile-html.js';

const FOREIGN = 'http://tracker.example';

test('every hostile mail loses its scripts, handlers, active URLs and foreign references', () => {
  for (const mail of HOSTILE_MAILS) {
    const { html } = sanitizeHtml(mail.html.replaceAll('FOREIGN', FOREIGN), { allowRemoteImages: false });
    assert.ok(html.includes(mail.marker), `${mail.name}: the readable text stays`);
    assert.doesNotMatch(
      html,
      /<script|<svg|<form|<input|<button|<meta|<base|<iframe|<object|<embed|<link|<video/i,
      mail.name,
    );
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${mail.name}: no event handler attribute`);
    assert.doesNotMatch(html, /javascript:|data:text|expression\s*\(/i, `${mail.name}: no active URL`);
    assert.ok(!html.includes(FOREIGN), `${mail.name}: nothing points at the foreign host:\n${html}`);
  }
});

test('remote images are counted and kept out until the reader allows them', () => {
  const mail = `<p>hi</p><img src="${FOREIGN}/a.png"><img src="//cdn.example/b.png"><div style="background:url(${FOREIGN}/c.png)">x</div>`;
  const blocked = sanitizeHtml(mail, { allowRemoteImages: false });
  assert.equal(blocked.remoteImages, 3);
  assert.ok(!blocked.html.includes('example'));
  const allowed = sanitizeHtml(mail, { allowRemoteImages: true });
  assert.equal(allowed.remoteImages, 3);
  assert.match(allowed.html, /<img src="http:\/\/tracker\.example\/a\.png">/);
  // Inline (cid:) images arrive as data: URLs and always show.
  const inline = sanitizeHtml('<img src="data:image/png;base64,iVBORw0KGgo=">', { allowRemoteImages: false });
  assert.match(inline.html, /src="data:image\/png/);
  assert.equal(inline.remoteImages, 0);
});

test('links open outside the sandbox without a handle back to the webmail', () => {
  const { html } = sanitizeHtml('<a href="https://example.org/x">x</a>', { allowRemoteImages: false });
  assert.match(html, /target="_blank"/);
  assert.match(html, /rel="noopener noreferrer"/);
});

test('the body policy allows no script at all and remote images only when asked', () => {
  const strict = messageBodyPolicy(false);
  assert.match(strict, /default-src 'none'/);
  assert.doesNotMatch(strict, /script-src/);
  assert.match(strict, /img-src data:;/);
  assert.match(strict, /sandbox allow-popups allow-popups-to-escape-sandbox/);
  assert.match(messageBodyPolicy(true), /img-src data: https: http:;/);
});

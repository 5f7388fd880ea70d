import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageAnalyzer } from '../src/index.js';
import { analyze, crlf } from './fixtures.js';

function twoParts(first: string[], second: string[]): Buffer {
  return crlf([
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    ...first,
    '--b',
    ...second,
    '--b--',
    '',
  ]);
}

describe('searchText', () => {
  test('decodes quoted-printable and base64 in their charsets', async () => {
    const raw = twoParts(
      [
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Gr=FC=DFe aus M=FCn=',
        'chen',
      ],
      [
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('日本語のテキスト').toString('base64'),
      ],
    );
    const a = await analyze(raw);
    assert.equal(a.searchText, 'Grüße aus München\n日本語のテキスト');
  });

  test('uses HTML, stripped, only when there is no plain text part', async () => {
    const html = ['Content-Type: text/html; charset=utf-8', '', '<html><head><style>p{}</style></head>'];
    html.push('<body><p>Fish &amp; chips</p><script>var x;</script>&#233;t&eacute;</body></html>');
    const onlyHtml = await analyze(crlf(['Content-Type: text/html', '', ...html.slice(2)]));
    assert.equal(onlyHtml.searchText, 'Fish & chips\nété');
    const both = await analyze(twoParts(['', 'plain words'], html));
    assert.equal(both.searchText, 'plain words');
  });

  test('adds attachment filenames and skips attachment bodies', async () => {
    const raw = twoParts(
      ['', 'see the report'],
      [
        'Content-Type: text/plain; name="=?utf-8?Q?r=C3=A9sum=C3=A9.txt?="',
        "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt",
        '',
        'secret attachment text',
      ],
    );
    const a = await analyze(raw);
    assert.equal(a.searchText, 'résumé.txt\nsee the report');
    assert.deepEqual(a.attachments[0]?.filename, 'résumé.txt');
  });

  test('format=flowed lines are joined', async () => {
    const a = await analyze(crlf(['Content-Type: text/plain; format=flowed', '', 'one ', 'line', '']));
    assert.equal(a.searchText, 'one line');
  });

  test('is cut at the limit and says so', async () => {
    const body = Array(2000).fill('word '.repeat(15)).join('\r\n');
    const a = await analyze(crlf(['Subject: big', '', body]), [4096], { searchTextLimit: 1000 });
    assert.equal(a.searchText.length, 1000);
    assert.equal(a.searchTextTruncated, true);
    const small = await analyze(crlf(['', 'short']));
    assert.equal(small.searchTextTruncated, false);
  });

  test('unknown charsets fall back to UTF-8', async () => {
    const a = await analyze(crlf(['Content-Type: text/plain; charset=x-nonsense', '', 'naïve']));
    assert.equal(a.searchText, 'naïve');
  });

  test('hasAttachments is false for inline images of an HTML message', async () => {
    const raw = crlf([
      'Content-Type: multipart/related; boundary=r',
      '',
      '--r',
      'Content-Type: text/html',
      '',
      '<img src="cid:i1">',
      '--r',
      'Content-Type: image/png',
      'Content-ID: <i1>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBO',
      '--r--',
    ]);
    const a = await analyze(raw);
    assert.equal(a.hasAttachments, false);
    assert.deepEqual(a.attachments, []);
  });
});

describe('searchText, however the input is cut into chunks', () => {
  test('the same text whether the body comes whole, in odd pieces, or one byte at a time', async () => {
    const lines = Array.from(
      { length: 200 },
      (_, i) => `Línea ${i} de un mensaje largo, con acentos: ñandú.`,
    );
    const raw = twoParts(
      ['Content-Type: text/plain; charset=utf-8', '', ...lines],
      ['Content-Type: text/plain', '', 'fin'],
    );
    const whole = new MessageAnalyzer();
    whole.write(raw);
    const expected = whole.end().searchText;
    assert.equal(expected, `${lines.join('\r\n')}\nfin`);
    for (const size of [1, 7, 64, 1000]) {
      const pieces = new MessageAnalyzer();
      for (let at = 0; at < raw.length; at += size) pieces.write(raw.subarray(at, at + size));
      assert.equal(pieces.end().searchText, expected, `chunks of ${size}`);
    }
  });
});

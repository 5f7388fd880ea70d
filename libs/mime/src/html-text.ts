import { decodeHTML } from 'entities';

const SKIPPED = new Set(['script', 'style']);
const BREAKS = new Set([
  'br',
  'p',
  'div',
  'tr',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'blockquote',
]);

/**
 * Visible words of an HTML body, for the search index only. The tag stripping is by hand: full
 * converters (html-to-text) lay text out for reading, which search does not need, and pull in a
 * DOM parser; regular expressions go quadratic on junk like "<a <b <c". This is one forward scan.
 * Entities are decoded by the `entities` package.
 */
export function htmlToSearchText(html: string): string {
  const lower = html.toLowerCase();
  const out: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      if (end === -1) break;
      out.push(' ');
      i = end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt === -1) {
      out.push(html.slice(lt));
      break;
    }
    const name = /^\/?([a-z][a-z0-9]*)/.exec(lower.slice(lt + 1, Math.min(gt, lt + 20)))?.[1] ?? '';
    i = gt + 1;
    if (SKIPPED.has(name) && lower[lt + 1] !== '/') {
      const close = lower.indexOf(`</${name}`, i);
      if (close === -1) break;
      const closeEnd = html.indexOf('>', close);
      i = closeEnd === -1 ? html.length : closeEnd + 1;
    }
    out.push(BREAKS.has(name) ? '\n' : ' ');
  }
  return decodeHTML(out.join(''))
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n[\n ]*/g, '\n')
    .trim();
}

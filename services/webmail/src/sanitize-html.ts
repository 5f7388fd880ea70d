import createDOMPurify from 'dompurify';
import { JSDOM } from 'jsdom';

/*
 * Mail HTML is hostile by default. Three layers keep it harmless, each enough on its own for scripts:
 * 1. DOMPurify (the browsers' own parser rules, kept up to date by people who do only this) strips
 *    scripts, event handlers, javascript:/data: links, SVG/MathML, forms, meta refresh, base, frames.
 * 2. The result is served with a CSP (default-src 'none', no script-src at all) and `sandbox`.
 * 3. The browser shows it in an <iframe sandbox> without allow-scripts or allow-same-origin.
 * Remote content (tracking pixels, remote fonts, CSS url()) is blocked by the CSP's img-src/font-src
 * until the user allows images for that message; the sanitiser also takes remote image URLs out of
 * the document then, so the browser does not even try, and counts them for the "show images" bar.
 */

const window = new JSDOM('').window;
const purify = createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]);

const REMOTE = /^\s*(?:https?:)?\/\//i;
const REMOTE_CSS_URL = /url\s*\(\s*['"]?\s*(?:https?:)?\/\//i;
// Tags whose only purpose in a mail is to act: submit, navigate, embed or restyle the page around it.
const FORBID_TAGS = [
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'option',
  'meta',
  'link',
  'base',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'audio',
  'video',
  'source',
  'track',
  'picture',
];
const FORBID_ATTR = ['srcset', 'background', 'poster', 'action', 'formaction', 'ping', 'lowsrc', 'dynsrc'];

export interface SanitizedHtml {
  html: string;
  /** Remote images taken out (or, with remote images allowed, kept). */
  remoteImages: number;
}

let counting: { remote: number; allowRemote: boolean } | null = null;

purify.addHook('afterSanitizeAttributes', (node) => {
  if (!counting) return;
  if (node.tagName === 'IMG') {
    const src = node.getAttribute('src') ?? '';
    if (REMOTE.test(src)) {
      counting.remote++;
      if (!counting.allowRemote) node.removeAttribute('src');
    } else if (src !== '' && !/^data:image\//i.test(src)) {
      // cid: parts are already data: URLs (mailparser); anything else could only be a request.
      node.removeAttribute('src');
    }
  }
  if (node.tagName === 'A') {
    // Links open outside the sandbox, never with a handle back to the webmail.
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
  const style = node.getAttribute('style');
  if (style) {
    const remote = REMOTE_CSS_URL.test(style);
    if (remote) counting.remote++;
    if ((remote && !counting.allowRemote) || /expression\s*\(|@import/i.test(style))
      node.removeAttribute('style');
  }
});

// A <style> block's remote references: url(...) to another host, and @import of anything.
const REMOTE_CSS_URLS = /url\s*\(\s*['"]?\s*(?:https?:)?\/\/[^)]*\)/gi;
const CSS_IMPORTS = /@import\b[^;]*;?/gi;

purify.addHook('uponSanitizeElement', (node, data) => {
  if (!counting || data.tagName !== 'style') return;
  const css = node.textContent ?? '';
  const remote = (css.match(REMOTE_CSS_URLS)?.length ?? 0) + (css.match(CSS_IMPORTS)?.length ?? 0);
  counting.remote += remote;
  // @import goes always (a stylesheet from elsewhere restyles at will); remote url()s until allowed.
  let cleaned = css.replace(CSS_IMPORTS, '');
  if (!counting.allowRemote) cleaned = cleaned.replace(REMOTE_CSS_URLS, 'none');
  if (cleaned !== css) node.textContent = cleaned;
});

export function sanitizeHtml(html: string, options: { allowRemoteImages: boolean }): SanitizedHtml {
  counting = { remote: 0, allowRemote: options.allowRemoteImages };
  try {
    const clean = purify.sanitize(html, {
      USE_PROFILES: { html: true },
      FORBID_TAGS,
      FORBID_ATTR,
      // <style> blocks of the mail stay (it would look broken without them); the CSP still blocks
      // every url() in them unless remote images are allowed.
      ADD_TAGS: ['style'],
      FORCE_BODY: true,
      ALLOW_DATA_ATTR: false,
    });
    return { html: clean, remoteImages: counting.remote };
  } finally {
    counting = null;
  }
}

/** The Content-Security-Policy the message body is served under (see the comment at the top). */
export function messageBodyPolicy(allowRemoteImages: boolean): string {
  const images = allowRemoteImages ? 'data: https: http:' : 'data:';
  return [
    "default-src 'none'",
    `img-src ${images}`,
    "style-src 'unsafe-inline'",
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

// What the compose editor makes (bold, italic, lists, quotes, links) and what a quoted reply carries.
const OUTGOING_TAGS = [
  'a',
  'b',
  'strong',
  'i',
  'em',
  'u',
  's',
  'p',
  'br',
  'div',
  'span',
  'ul',
  'ol',
  'li',
  'blockquote',
  'pre',
  'code',
  'h1',
  'h2',
  'h3',
  'hr',
];

/**
 * Rich text from the compose form, cleaned before it is sent or saved: only the tags the editor makes,
 * links only to http(s)/mailto, no style, class or id; the recipient's mail client then gets nothing
 * that acts, loads or tracks (a pasted tracking pixel or script is gone).
 */
export function sanitizeOutgoingHtml(html: string): string {
  return purify.sanitize(html, {
    ALLOWED_TAGS: OUTGOING_TAGS,
    ALLOWED_ATTR: ['href'],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    ALLOW_DATA_ATTR: false,
    FORCE_BODY: true,
  });
}

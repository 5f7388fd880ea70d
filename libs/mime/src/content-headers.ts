import libmime from 'libmime';
import type { HeaderField } from './header-block.js';
import { firstField } from './header-block.js';
import type { ContentDisposition } from './types.js';

/** What the MIME header of one part says about its body (RFC 2045, 2183, 3066, 2557). */
export interface ContentInfo {
  type: string;
  subtype: string;
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  encoding: string;
  md5: string | null;
  disposition: ContentDisposition | null;
  language: string[] | null;
  location: string | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Param objects from libmime are plain objects; copy them so names like __proto__ stay data. */
function safeParams(params: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!params) return out;
  for (const [key, value] of Object.entries(params)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    Object.defineProperty(out, key.toLowerCase(), {
      value: String(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function parseStructured(value: string): { value: string; params: Record<string, string> } {
  try {
    const parsed = libmime.parseHeaderValue(value);
    return { value: String(parsed.value ?? '').trim(), params: safeParams(parsed.params) };
  } catch {
    return { value: value.split(';')[0]?.trim() ?? '', params: {} };
  }
}

/**
 * Reads the Content-* fields of one part. `defaultType` is text/plain, or message/rfc822 inside
 * multipart/digest (RFC 2046 5.1.5). A missing or unparseable Content-Type falls back to the default
 * with charset us-ascii (RFC 2045 5.2).
 */
export function readContentInfo(
  fields: HeaderField[],
  defaultType: 'text/plain' | 'message/rfc822',
): ContentInfo {
  let type: string;
  let subtype: string;
  let params: Record<string, string>;
  const rawType = firstField(fields, 'content-type');
  const parsed = rawType === null ? null : parseStructured(rawType);
  const slash = parsed ? parsed.value.indexOf('/') : -1;
  const t = parsed && slash > 0 ? parsed.value.slice(0, slash).trim().toLowerCase() : '';
  const s =
    parsed && slash > 0
      ? parsed.value
          .slice(slash + 1)
          .trim()
          .toLowerCase()
      : '';
  if (parsed && TOKEN.test(t) && TOKEN.test(s)) {
    type = t;
    subtype = s;
    params = parsed.params;
  } else {
    [type, subtype] = defaultType.split('/') as [string, string];
    params = type === 'text' ? { charset: 'us-ascii' } : {};
  }

  const rawDisposition = firstField(fields, 'content-disposition');
  let disposition: ContentDisposition | null = null;
  if (rawDisposition) {
    const d = parseStructured(rawDisposition);
    if (d.value) disposition = { type: d.value.toLowerCase(), params: d.params };
  }

  const rawLanguage = firstField(fields, 'content-language');
  const language = rawLanguage
    ? rawLanguage
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean)
    : [];

  const encoding = (firstField(fields, 'content-transfer-encoding') ?? '').trim().split(/[\s;]/)[0] ?? '';

  return {
    type,
    subtype,
    params,
    id: firstField(fields, 'content-id'),
    description: firstField(fields, 'content-description'),
    encoding: encoding ? encoding.toUpperCase() : '7BIT',
    md5: firstField(fields, 'content-md5'),
    disposition,
    language: language.length ? language : null,
    location: firstField(fields, 'content-location'),
  };
}

/** The decoded filename of a part: Content-Disposition filename, else Content-Type name. */
export function partFilename(info: Pick<ContentInfo, 'params' | 'disposition'>): string | null {
  const raw = info.disposition?.params.filename ?? info.params.name;
  if (!raw) return null;
  try {
    return libmime.decodeWords(raw).trim() || null;
  } catch {
    return raw;
  }
}

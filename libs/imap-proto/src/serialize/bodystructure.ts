import type { BodyStructure, ContentDisposition } from '@correo/mime';
import type { ImapValue } from './encoder.js';
import { nstr, num, str } from './encoder.js';
import { envelopeValue } from './envelope.js';

function params(p: Record<string, string>): ImapValue {
  const entries = Object.entries(p);
  return entries.length ? entries.flatMap(([name, value]) => [str(name), str(value)]) : null;
}

function disposition(d: ContentDisposition | null): ImapValue {
  return d ? [str(d.type), params(d.params)] : null;
}

function language(l: string[] | null): ImapValue {
  return l && l.length ? l.map((x) => str(x)) : null;
}

/**
 * BODY (extended = false) or BODYSTRUCTURE (extended = true) of RFC 9051 7.5.2, from @correo/mime's
 * BodyStructure. Extension data is written in full up to body-fld-loc.
 */
export function bodyStructureValue(part: BodyStructure, extended: boolean): ImapValue {
  if (part.kind === 'multipart') {
    const values: ImapValue[] = [
      { type: 'adjacent', values: part.parts.map((p) => bodyStructureValue(p, extended)) },
      str(part.subtype),
    ];
    if (extended) {
      values.push(
        params(part.params),
        disposition(part.disposition),
        language(part.language),
        nstr(part.location),
      );
    }
    return values;
  }
  const values: ImapValue[] = [
    str(part.type),
    str(part.subtype),
    params(part.params),
    nstr(part.id),
    nstr(part.description),
    str(part.encoding),
    num(part.size),
  ];
  if (part.kind === 'message') {
    values.push(envelopeValue(part.envelope), bodyStructureValue(part.body, extended), num(part.lines));
  } else if (part.kind === 'text') {
    values.push(num(part.lines));
  }
  if (extended) {
    values.push(nstr(part.md5), disposition(part.disposition), language(part.language), nstr(part.location));
  }
  return values;
}

import type { Section } from '../parse/section.js';
import { encodeValues, astr } from './encoder.js';

/** The section spec inside the brackets, e.g. "1.2.HEADER.FIELDS (SUBJECT FROM)". */
export function formatSection(section: Section): string {
  const parts = section.part.map(String);
  if (section.text) parts.push(section.text);
  let text = parts.join('.');
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    text += ` (${encodeValues(section.fields.map(astr)).toString('utf8')})`;
  }
  return text;
}

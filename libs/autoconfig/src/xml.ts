import { XMLBuilder } from 'fast-xml-parser';

// One builder for every document here: fast-xml-parser escapes text and attribute values, so an address
// or domain can never break out of its element.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
});

/** `<?xml ...?>` plus the document built from a plain object (keys `@x` are attributes). */
export function xmlDocument(root: Record<string, unknown>, doctype = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${doctype}${builder.build(root) as string}`;
}

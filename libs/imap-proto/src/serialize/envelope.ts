import type { Envelope, ImapAddress } from '@correo/mime';
import type { ImapValue } from './encoder.js';
import { nstr } from './encoder.js';

function addressList(addresses: ImapAddress[] | null): ImapValue {
  if (!addresses || addresses.length === 0) return null;
  // "(" 1*address ")": addresses side by side without a space, as RFC 3501's own example writes them.
  return [{ type: 'adjacent', values: addresses.map((a) => a.map(nstr)) }];
}

/** ENVELOPE (RFC 9051 7.5.2) from @correo/mime's field-by-field shape. */
export function envelopeValue(e: Envelope): ImapValue {
  return [
    nstr(e.date),
    nstr(e.subject),
    addressList(e.from),
    addressList(e.sender),
    addressList(e.replyTo),
    addressList(e.to),
    addressList(e.cc),
    addressList(e.bcc),
    nstr(e.inReplyTo),
    nstr(e.messageId),
  ];
}

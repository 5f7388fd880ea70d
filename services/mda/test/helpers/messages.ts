import { randomUUID } from 'node:crypto';

export interface TestMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** A plain RFC 5322 message with CRLF line ends, as smtp-ingress stores it. */
export function rawMessage(message: TestMessage): Buffer {
  return Buffer.from(
    [
      `Received: from client.test by mx.test; Thu, 26 Nov 2026 06:00:00 +0000`,
      `From: Sender <${message.from}>`,
      `To: ${message.to.join(', ')}`,
      `Subject: ${message.subject}`,
      `Date: Thu, 26 Nov 2026 06:00:00 +0000`,
      `Message-ID: <${randomUUID()}@client.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      message.text,
      '',
    ].join('\r\n'),
  );
}

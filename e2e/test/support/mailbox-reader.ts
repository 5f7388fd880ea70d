import { fileURLToPath } from 'node:url';
import { runProgram } from '@correo/testkit';

const READ_MAILBOX = fileURLToPath(new URL('../fixtures/read_mailbox.py', import.meta.url));

/** Where a host's IMAP or POP3 listener is, and the name its certificate must carry. */
export interface MailHost {
  /** The address it listens on (a loopback address standing for the host). */
  address: string;
  port: number;
  /** The host name the client verifies the certificate against (there is no DNS for it here). */
  serverName: string;
  caFile: string;
}

/**
 * Every message of a mailbox as Python's imaplib (INBOX or `mailbox`, STARTTLS, UID order) or poplib
 * (STLS) reads it, verifying the certificate's chain and name; nothing is changed or deleted
 * (e2e/test/fixtures/read_mailbox.py).
 */
export async function readMailbox(
  protocol: 'imap' | 'pop3',
  host: MailHost,
  user: string,
  password: string,
  mailbox = 'INBOX',
): Promise<string[]> {
  const { code, stdout, stderr } = await runProgram('python3', [
    READ_MAILBOX,
    protocol,
    host.address,
    String(host.port),
    host.serverName,
    user,
    password,
    host.caFile,
    ...(protocol === 'imap' ? [mailbox] : []),
  ]);
  if (code !== 0) throw new Error(`python ${protocol} client failed (${code}): ${stderr}`);
  const result = JSON.parse(stdout) as { messages?: string[]; error?: string };
  if (result.error !== undefined) throw new Error(`${protocol} as ${user}: ${result.error}`);
  return result.messages!;
}

/** The header section of a message, continuation lines unfolded (RFC 5322 section 2.2.3). */
export function headerFields(message: string): { name: string; value: string }[] {
  const end = message.search(/\r?\n\r?\n/);
  const section = end === -1 ? message : message.slice(0, end);
  return section
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((line) => {
      const colon = line.indexOf(':');
      return { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() };
    })
    .filter((field) => field.name !== '');
}

/** The values of every field called `name`, in order. */
export function headerValues(message: string, name: string): string[] {
  return headerFields(message)
    .filter((field) => field.name === name.toLowerCase())
    .map((field) => field.value);
}

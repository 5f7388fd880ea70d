// POP3 retrieval benchmark (a report, not a test): C concurrent clients each log in to their own
// maildrop of M messages, RETR every one, and QUIT without deleting. Prints messages/s and MB/s per
// round; the first round also pays for computing each blob's POP3 size once (kept in pop3_octets).
//
//   make bench-pop3                      embedded blobs (files), in-process limits
//   BENCH_KIND=distributed make bench-pop3   MinIO blobs, Redis limits
//   BENCH_CLIENTS=8 BENCH_MESSAGES=200 BENCH_ROUNDS=3 BENCH_MESSAGE_BYTES=4096
import { performance } from 'node:perf_hooks';
import { LineClient } from '@correo/testkit';
import { Pop3TestStack, rawMessage } from '../services/pop3-gateway/test/helpers/stack.js';
import type { StackKind } from '@correo/testkit/stack';

const clients = Number(process.env.BENCH_CLIENTS ?? 8);
const perClient = Number(process.env.BENCH_MESSAGES ?? 200);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const messageBytes = Number(process.env.BENCH_MESSAGE_BYTES ?? 4096);
const kind = (process.env.BENCH_KIND ?? 'embedded') as StackKind;

function bodyLines(bytes: number): string[] {
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.';
  return Array.from({ length: Math.max(1, Math.ceil(bytes / (line.length + 2))) }, () => line);
}

async function retrieveAll(port: number, address: string, password: string): Promise<number> {
  const client = await LineClient.connect(port);
  try {
    await client.readLine();
    await client.ask(`USER ${address}`);
    const login = await client.ask(`PASS ${password}`);
    if (!login.startsWith('+OK')) throw new Error(`login failed: ${login}`);
    const stat = await client.ask('STAT');
    const [count, octets] = stat.split(' ').slice(1).map(Number) as [number, number];
    for (let n = 1; n <= count; n++) {
      const reply = await client.ask(`RETR ${n}`);
      if (!reply.startsWith('+OK')) throw new Error(`RETR ${n}: ${reply}`);
      await client.readMultilineBytes();
    }
    await client.ask('QUIT');
    await client.closed();
    return octets;
  } finally {
    client.destroy();
  }
}

const stack = await Pop3TestStack.create(kind);
try {
  const gateway = await stack.startGateway();
  const accounts = [];
  const fillStart = performance.now();
  for (let c = 0; c < clients; c++) {
    const account = await stack.account(`bench${c}`);
    for (let m = 0; m < perClient; m++) {
      await stack.deliver(
        account.accountId,
        account.address,
        rawMessage(`bench ${c}/${m}`, bodyLines(messageBytes)),
      );
    }
    accounts.push(account);
  }
  console.log(
    `pop3-retrieve (${kind}): ${clients} clients x ${perClient} messages of ~${messageBytes} B ` +
      `(filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s)`,
  );
  for (let round = 1; round <= rounds; round++) {
    const start = performance.now();
    const octets = await Promise.all(
      accounts.map((account) => retrieveAll(gateway.ports.pop3, account.address, stack.password)),
    );
    const seconds = (performance.now() - start) / 1000;
    const messages = clients * perClient;
    const megabytes = octets.reduce((a, b) => a + b, 0) / 1e6;
    console.log(
      `round ${round}${round === 1 ? ' (cold: sizes computed)' : ''}: ${messages} messages in ${seconds.toFixed(2)} s = ` +
        `${(messages / seconds).toFixed(0)} messages/s, ${(megabytes / seconds).toFixed(1)} MB/s`,
    );
  }
} finally {
  await stack.close();
}

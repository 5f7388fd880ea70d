import dns2 from 'dns2';

const { Packet } = dns2;
// RFC 1035 RCODEs 2 and 3; dns2's typings omit its Packet.RCODE table.
const SERVFAIL = 2;
const NXDOMAIN = 3;

/** The records one owner name answers; a name absent from the zone answers NXDOMAIN. */
export interface DnsRecords {
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  AAAA?: string[];
  /** One entry per TXT record; an array is one record made of several strings (>255 octets). */
  TXT?: (string | string[])[];
  /** Reverse names (4.3.2.1.in-addr.arpa) answer these host names. */
  PTR?: string[];
  /** Every query for the name answers SERVFAIL (a broken authoritative server: a temporary error). */
  SERVFAIL?: boolean;
  /** Every query for the name goes unanswered, so the resolver times out (a server that is gone). */
  silent?: boolean;
}

export interface TestDnsServer {
  /** 127.0.0.1:<port>, as RELAY_DNS_SERVERS and node:dns Resolver.setServers take it. */
  readonly address: string;
  readonly port: number;
  /** Replaces the records of a name (lowercased); later queries see them at once. */
  set(name: string, records: DnsRecords): void;
  /** The name answers NXDOMAIN again. */
  remove(name: string): void;
  /** Every query answered so far, as "TYPE name", for asserting on lookups. */
  readonly queries: string[];
  close(): Promise<void>;
}

/** The record types the server answers (every field of DnsRecords but the SERVFAIL and silent marks). */
type RecordType = Exclude<keyof DnsRecords, 'SERVFAIL' | 'silent'>;

const TYPE_NAMES: Record<number, RecordType> = {
  [Packet.TYPE.MX]: 'MX',
  [Packet.TYPE.A]: 'A',
  [Packet.TYPE.AAAA]: 'AAAA',
  [Packet.TYPE.TXT]: 'TXT',
  [Packet.TYPE.PTR]: 'PTR',
};

/**
 * A real authoritative DNS server on 127.0.0.1 (UDP and TCP on one port), so tests exercise the
 * resolver code paths production uses: MX with preferences, null MX, A/AAAA fallback, TXT for
 * DKIM/SPF/DMARC, NXDOMAIN versus an empty answer.
 */
export async function startDnsServer(
  zone: Record<string, DnsRecords> = {},
  options: {
    /** Ports to try before ephemeral ones (a test of the busy-port path). */ firstPorts?: number[];
  } = {},
): Promise<TestDnsServer> {
  const names = new Map(Object.entries(zone).map(([name, records]) => [normalise(name), records]));
  const queries: string[] = [];

  const handle: dns2.DnsHandler = (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const [question] = request.questions;
    if (!question) return void send(response);
    const name = normalise(question.name);
    const kind = TYPE_NAMES[question.type];
    queries.push(`${kind ?? question.type} ${name}`);
    const records = names.get(name);
    if (records?.silent === true) return;
    if (!records || records.SERVFAIL === true) {
      response.header.rcode = records ? SERVFAIL : NXDOMAIN;
      return void send(response);
    }
    for (const answer of kind ? answersFor(kind, records) : []) {
      response.answers.push({
        name: question.name,
        class: Packet.CLASS.IN,
        ttl: 60,
        ...answer,
      } as unknown as dns2.Packet.Resource);
    }
    void send(response);
  };

  // One port for both: UDP on an ephemeral port, then TCP on the same number, which another
  // process may hold (outgoing connections use the same range). dns2 reports a failed listen only
  // as an 'error' event and its `listening` promise never settles, so each attempt gets a fresh
  // server and waits for whichever comes first.
  let server: dns2.DnsServer | undefined;
  for (let tries = 0; !server; tries++) {
    const port =
      options.firstPorts?.[tries] ??
      (await new Promise<number>((resolve, reject) => {
        const probe = dns2.createUDPServer(() => {});
        probe.once('error', reject);
        void probe.listen(0, '127.0.0.1').then(() => {
          const bound = (probe.address() as { port: number }).port;
          probe.close(() => resolve(bound));
        });
      }));
    const candidate = dns2.createServer({ udp: true, tcp: true, handle });
    const failed = await new Promise<Error | undefined>((resolve) => {
      candidate.once('error', resolve);
      void candidate
        .listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } })
        .then(() => resolve(undefined));
    });
    if (!failed) {
      server = candidate;
      break;
    }
    // Close what did bind (the UDP half), without waiting on the half that never listened.
    for (const half of Object.values(
      (candidate as unknown as { servers: Record<string, { close(): void }> }).servers,
    ))
      try {
        half.close();
      } catch {
        // never bound
      }
    if (tries >= 10) throw failed;
  }
  const port = server.addresses().udp!.port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    set(name, records) {
      names.set(normalise(name), records);
    },
    remove(name) {
      names.delete(normalise(name));
    },
    async close() {
      await server.close();
    },
  };
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function answersFor(kind: RecordType, records: DnsRecords): object[] {
  switch (kind) {
    case 'MX':
      return (records.MX ?? []).map((mx) => ({ type: Packet.TYPE.MX, ...mx }));
    case 'A':
      return (records.A ?? []).map((address) => ({ type: Packet.TYPE.A, address }));
    case 'AAAA':
      return (records.AAAA ?? []).map((address) => ({ type: Packet.TYPE.AAAA, address }));
    case 'TXT':
      return (records.TXT ?? []).map((data) => ({ type: Packet.TYPE.TXT, data }));
    case 'PTR':
      return (records.PTR ?? []).map((domain) => ({ type: Packet.TYPE.PTR, domain }));
  }
}

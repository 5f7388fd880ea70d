import dns2 from 'dns2';

const { Packet } = dns2;
// RFC 1035 RCODE 3; dns2's typings omit its Packet.RCODE table.
const NXDOMAIN = 3;

/** The records one owner name answers; a name absent from the zone answers NXDOMAIN. */
export interface DnsRecords {
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  AAAA?: string[];
  /** One entry per TXT record; an array is one record made of several strings (>255 octets). */
  TXT?: (string | string[])[];
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

const TYPE_NAMES: Record<number, keyof DnsRecords> = {
  [Packet.TYPE.MX]: 'MX',
  [Packet.TYPE.A]: 'A',
  [Packet.TYPE.AAAA]: 'AAAA',
  [Packet.TYPE.TXT]: 'TXT',
};

/**
 * A real authoritative DNS server on 127.0.0.1 (UDP and TCP on one port), so tests exercise the
 * resolver code paths production uses: MX with preferences, null MX, A/AAAA fallback, TXT for
 * DKIM/SPF/DMARC, NXDOMAIN versus an empty answer.
 */
export async function startDnsServer(zone: Record<string, DnsRecords> = {}): Promise<TestDnsServer> {
  const names = new Map(Object.entries(zone).map(([name, records]) => [normalise(name), records]));
  const queries: string[] = [];

  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle(request, send) {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      const [question] = request.questions;
      if (!question) return void send(response);
      const name = normalise(question.name);
      const kind = TYPE_NAMES[question.type];
      queries.push(`${kind ?? question.type} ${name}`);
      const records = names.get(name);
      if (!records) {
        response.header.rcode = NXDOMAIN;
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
    },
  });

  // One port for both: try UDP on an ephemeral port, then TCP on the same number.
  for (let tries = 0; ; tries++) {
    const udp = await new Promise<number>((resolve, reject) => {
      const probe = dns2.createUDPServer(() => {});
      probe.once('error', reject);
      void probe.listen(0, '127.0.0.1').then(() => {
        const port = (probe.address() as { port: number }).port;
        probe.close(() => resolve(port));
      });
    });
    try {
      await server.listen({
        udp: { port: udp, address: '127.0.0.1' },
        tcp: { port: udp, address: '127.0.0.1' },
      });
      break;
    } catch (error) {
      if (tries >= 5) throw error;
    }
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

function answersFor(kind: keyof DnsRecords, records: DnsRecords): object[] {
  switch (kind) {
    case 'MX':
      return (records.MX ?? []).map((mx) => ({ type: Packet.TYPE.MX, ...mx }));
    case 'A':
      return (records.A ?? []).map((address) => ({ type: Packet.TYPE.A, address }));
    case 'AAAA':
      return (records.AAAA ?? []).map((address) => ({ type: Packet.TYPE.AAAA, address }));
    case 'TXT':
      return (records.TXT ?? []).map((data) => ({ type: Packet.TYPE.TXT, data }));
  }
}

import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, v1 text and v2 binary): a load balancer in front
 * of the listeners opens each connection with a header naming the client it relays, so that caps,
 * logs and sessions see the client and not the balancer.
 *
 * By hand because the header must be read off a live socket to its exact last octet (what follows is
 * the client's TLS handshake or first command and must stay unread): the npm parsers take a complete
 * buffer and throw on a partial one. The format is a fixed signature, a length and fixed offsets.
 */

/** The v2 signature: no text protocol starts with it. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 line is at most 107 octets with its CRLF (the specification's own bound). */
const V1_MAX = 107;
/** v2 headers carry TLVs after the addresses; more than this is not a balancer we know. */
const V2_MAX = 16 + 2048;

export interface ProxiedAddress {
  address: string;
  port: number;
}

export type ProxyHeaderParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `source` is absent for v2 LOCAL (the balancer's own health check) and v1 UNKNOWN: use the peer. */
  | { kind: 'header'; length: number; source: ProxiedAddress | undefined };

/** True when `start` (the first octets a client sent) begins like a PROXY header, v1 or v2. */
export function looksLikeProxyHeader(start: Buffer): boolean {
  for (const signature of [V1_PREFIX, V2_SIGNATURE]) {
    const n = Math.min(start.length, signature.length);
    if (n > 0 && start.subarray(0, n).equals(signature.subarray(0, n))) return true;
  }
  return false;
}

/** Parses a PROXY header at the start of `data`. */
export function parseProxyHeader(data: Buffer): ProxyHeaderParse {
  if (data.length === 0) return { kind: 'incomplete' };
  const v2Prefix = Math.min(data.length, V2_SIGNATURE.length);
  if (data.subarray(0, v2Prefix).equals(V2_SIGNATURE.subarray(0, v2Prefix))) return parseV2(data);
  const v1Prefix = Math.min(data.length, V1_PREFIX.length);
  if (data.subarray(0, v1Prefix).equals(V1_PREFIX.subarray(0, v1Prefix))) return parseV1(data);
  return { kind: 'invalid', reason: 'no PROXY header' };
}

function parseV2(data: Buffer): ProxyHeaderParse {
  if (data.length < 16) return { kind: 'incomplete' };
  const version = data[12]! >> 4;
  const command = data[12]! & 0x0f;
  if (version !== 2) return { kind: 'invalid', reason: `PROXY v2 header with version ${version}` };
  const length = 16 + data.readUInt16BE(14);
  if (length > V2_MAX) return { kind: 'invalid', reason: 'PROXY v2 header too long' };
  if (data.length < length) return { kind: 'incomplete' };
  if (command === 0) return { kind: 'header', length, source: undefined };
  if (command !== 1) return { kind: 'invalid', reason: `PROXY v2 command ${command}` };
  const family = data[13]! >> 4;
  const transport = data[13]! & 0x0f;
  const body = data.subarray(16, length);
  // Only TCP (STREAM) relays make sense in front of a line protocol; UNSPEC means "use the peer".
  if (family === 0) return { kind: 'header', length, source: undefined };
  if (transport !== 1) return { kind: 'invalid', reason: 'PROXY v2 header for a non-TCP transport' };
  if (family === 1 && body.length >= 12) {
    const address = [...body.subarray(0, 4)].join('.');
    return { kind: 'header', length, source: { address, port: body.readUInt16BE(8) } };
  }
  if (family === 2 && body.length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    // SocketAddress writes it the way the socket layer would (2001:db8::1), for caps and logs alike.
    const address = new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
    return { kind: 'header', length, source: { address, port: body.readUInt16BE(32) } };
  }
  return { kind: 'invalid', reason: 'PROXY v2 header with an unknown or short address block' };
}

function parseV1(data: Buffer): ProxyHeaderParse {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return data.length >= V1_MAX
      ? { kind: 'invalid', reason: 'PROXY v1 line too long' }
      : { kind: 'incomplete' };
  }
  const length = end + 2;
  if (length > V1_MAX) return { kind: 'invalid', reason: 'PROXY v1 line too long' };
  const [, protocol, source = '', destination = '', sourcePort, destinationPort, ...extra] = data
    .subarray(0, end)
    .toString('latin1')
    .split(' ');
  if (protocol === 'UNKNOWN') return { kind: 'header', length, source: undefined };
  const isAddress = protocol === 'TCP4' ? isIPv4 : protocol === 'TCP6' ? isIPv6 : () => false;
  const isPort = (text: string | undefined) => /^\d{1,5}$/.test(text ?? '') && Number(text) <= 65535;
  const valid =
    isAddress(source) &&
    isAddress(destination) &&
    isPort(sourcePort) &&
    isPort(destinationPort) &&
    !extra.length;
  if (!valid) return { kind: 'invalid', reason: 'malformed PROXY v1 line' };
  return { kind: 'header', length, source: { address: source, port: Number(sourcePort) } };
}

/** Peers allowed to send a PROXY header: the load balancers, as CIDRs (PROXY_TRUSTED_CIDRS). */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/') as [string, string | undefined];
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      this.list.addSubnet(
        address,
        bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits),
        family,
      );
    }
    this.empty = cidrs.length === 0;
  }

  trusts(address: string): boolean {
    if (this.empty || !address) return false;
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : undefined;
    if (v4) return this.list.check(v4, 'ipv4');
    return this.list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}

export class ProxyHeaderError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProxyHeaderError';
  }
}

/**
 * Reads the PROXY header a trusted balancer opens the connection with, and leaves every octet after it
 * unread in the socket (a TLS handshake or a pipelined command). Rejects on a malformed header, on
 * none within `timeoutMs`, or when the peer goes away.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxiedAddress | undefined> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const done = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      clearTimeout(timer);
      socket.pause();
    };
    const onData = (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      const parsed = parseProxyHeader(received);
      if (parsed.kind === 'incomplete') return;
      done();
      if (parsed.kind === 'invalid') return reject(new ProxyHeaderError(parsed.reason));
      const rest = received.subarray(parsed.length);
      if (rest.length > 0) socket.unshift(rest);
      resolve(parsed.source);
    };
    const onClose = () => {
      done();
      reject(new ProxyHeaderError('connection closed before the PROXY header'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new ProxyHeaderError('no PROXY header in time'));
    }, timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * The header a balancer sends for a TCP client (v2 binary or v1 text), as load balancers and tests
 * write it. The destination is the listener's side; nothing here reads it.
 */
export function encodeProxyHeader(
  version: 1 | 2,
  source: ProxiedAddress,
  destination: ProxiedAddress,
): Buffer {
  const v6 = isIPv6(source.address);
  if (version === 1) {
    const family = v6 ? 'TCP6' : 'TCP4';
    const line = `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`;
    return Buffer.from(line, 'latin1');
  }
  const addresses = v6
    ? Buffer.concat([ipv6Octets(source.address), ipv6Octets(destination.address), Buffer.alloc(4)])
    : Buffer.concat([ipv4Octets(source.address), ipv4Octets(destination.address), Buffer.alloc(4)]);
  addresses.writeUInt16BE(source.port, addresses.length - 4);
  addresses.writeUInt16BE(destination.port, addresses.length - 2);
  const head = Buffer.alloc(4);
  head[0] = 0x21; // version 2, PROXY
  head[1] = v6 ? 0x21 : 0x11; // AF_INET6 / AF_INET over STREAM
  head.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addresses]);
}

function ipv4Octets(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Octets(address: string): Buffer {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const octets = Buffer.alloc(16);
  groups.forEach((group, i) => octets.writeUInt16BE(parseInt(group, 16), i * 2));
  return octets;
}

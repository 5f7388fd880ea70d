import { isIPv6 } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Logger } from '@correo/telemetry';
import { TrustedProxies, readProxyHeader } from './proxy-header.js';

export interface ProxyFrontOptions {
  trustedProxies: readonly string[];
  /** How long a trusted balancer has to send its header. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * PROXY headers for a server that reads PROXY v1 itself but not v2, nor trust by CIDR: smtp-server
 * with `useProxy: true`. Put in front of its listening socket, this reads v1 or v2 from the trusted
 * balancers and hands the server a v1 line naming the client; every other peer gets a v1 line
 * naming itself, so nobody else can choose the address the server sees. The server's own accept
 * path (its caps, the implicit-TLS handshake) runs unchanged after it.
 */
export function frontProxyHeaders(server: Server, options: ProxyFrontOptions): void {
  const trusted = new TrustedProxies(options.trustedProxies);
  const accept = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {});
    const peer = socket.remoteAddress ?? '';
    const handOn = (client: string, clientPort: number) => {
      socket.unshift(v1Line(client, clientPort, socket.localAddress ?? '', socket.localPort ?? 0));
      for (const listener of accept) listener.call(server, socket);
    };
    if (!trusted.trusts(peer)) return handOn(peer, socket.remotePort ?? 0);
    readProxyHeader(socket, options.timeoutMs).then(
      (source) => handOn(source?.address ?? peer, source?.port ?? socket.remotePort ?? 0),
      (error: Error) => {
        options.logger.info({ err: error, peer }, 'PROXY header refused');
        socket.destroy();
      },
    );
  });
}

function v1Line(source: string, sourcePort: number, destination: string, destinationPort: number): Buffer {
  // One family for both ends: an IPv4 client behind an IPv6 listener is written IPv4-mapped.
  const v6 = isIPv6(source) || isIPv6(destination);
  const mapped = (address: string) => (v6 && !isIPv6(address) ? `::ffff:${address}` : address);
  const family = v6 ? 'TCP6' : 'TCP4';
  return Buffer.from(
    `PROXY ${family} ${mapped(source)} ${mapped(destination)} ${sourcePort} ${destinationPort}\r\n`,
    'latin1',
  );
}

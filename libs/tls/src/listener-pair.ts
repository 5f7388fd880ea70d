import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/**
 * The two ports every mail access protocol has: a plain one where the session upgrades with
 * STARTTLS/STLS (143, 110) and an implicit-TLS one (993, 995). Both hand each accepted socket to
 * `onSocket`; the implicit one only after its handshake. Stopping returns once both servers
 * closed, which needs the caller to end its sessions too.
 */
export interface ListenerPairOptions<P extends string, T extends string> {
  names: { plain: P; tls: T };
  ports: { plain: number; tls: number };
  host: string;
  tls: { key: string; cert: string };
  /** Open connections per server. */
  maxConnections: number;
  onSocket(listener: P | T, socket: Socket): void;
  /** A failed handshake never reaches onSocket: the client's problem, not a server error. */
  onHandshakeError(error: Error): void;
}

export interface ListenerPair<N extends string> {
  /** The ports really bound (differ from the options when they asked for 0). */
  ports: Record<N, number>;
  /** Stops accepting; resolves when both servers have closed (after every session ended). */
  stopAccepting(): Promise<void>;
}

export async function listenPair<P extends string, T extends string>(
  options: ListenerPairOptions<P, T>,
): Promise<ListenerPair<P | T>> {
  const plain = createServer((socket) => options.onSocket(options.names.plain, socket));
  const implicit = createTlsServer(options.tls, (socket) => options.onSocket(options.names.tls, socket));
  implicit.on('tlsClientError', (error) => options.onHandshakeError(error));
  const servers: Server[] = [plain, implicit];
  for (const server of servers) server.maxConnections = options.maxConnections;
  try {
    const ports = {
      [options.names.plain]: await listen(plain, options.ports.plain, options.host),
      [options.names.tls]: await listen(implicit, options.ports.tls, options.host),
    } as Record<P | T, number>;
    return { ports, stopAccepting: () => Promise.all(servers.map(closeServer)).then(() => undefined) };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(address && typeof address === 'object' ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

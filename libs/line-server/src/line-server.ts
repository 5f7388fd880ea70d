import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { TLSSocket, createSecureContext } from 'node:tls';
import { ConnectionCounter, ConnectionGate, ConnectionLeases } from '@correo/limits';
import type { ConnectionLease, LeaseTiming, Limits } from '@correo/limits';
import type { Logger } from '@correo/telemetry';
import { LineConnection } from './line-connection.js';
import type { ConnectionTimers } from './line-connection.js';
import type { LineProtocol } from './protocol.js';
import { TrustedProxies, readProxyHeader } from './proxy-header.js';

export interface LineListener<N extends string> {
  name: N;
  port: number;
  /** TLS from the first octet (993, 995); otherwise the session may offer STARTTLS. */
  implicitTls: boolean;
}

/** The connection metrics every line protocol exports, declared by the service under its own prefix. */
export interface LineMetrics {
  /** correo_<protocol>_connections_total{listener}: admitted connections. */
  connections: { inc(labels: { listener: string }): void };
  /** correo_<protocol>_active_connections{listener}. */
  activeConnections: { inc(labels: { listener: string }): void; dec(labels: { listener: string }): void };
  /**
   * correo_<protocol>_connections_refused_total{listener,reason}: per-ip, total, proxy, tls, shutdown,
   * and after login per-user, per-user-ip.
   */
  refused: { inc(labels: { listener: string; reason: string }): void };
}

export interface LineServerOptions<F, N extends string> {
  protocol: LineProtocol<F>;
  listeners: readonly LineListener<N>[];
  host: string;
  /** PEM key and certificate: implicit-TLS listeners and STARTTLS. */
  tls: { key: string; cert: string };
  /** Sessions of this process over all listeners. */
  maxConnections: number;
  /** Sessions from one client address, over every pod sharing `limits` (and on this process first). */
  maxConnectionsPerIp: number;
  /** Logged-in sessions of one user over every pod; absent: no cap. */
  maxConnectionsPerUser?: number;
  /** Logged-in sessions of one user from one address over every pod (Dovecot's mail_max_userip_connections); absent: no cap. */
  maxConnectionsPerUserIp?: number;
  /** Where the caps across pods keep their leases (Redis, or in-process for the embedded default). */
  limits: Limits;
  leaseTiming?: LeaseTiming;
  timers: ConnectionTimers;
  /** Load balancers allowed to (and then required to) open connections with a PROXY header. */
  trustedProxies?: readonly string[];
  /** On close: how long sessions under way may finish before they are cut. */
  drainGraceMs?: number;
  metrics: LineMetrics;
  logger: Logger;
}

export interface LineServer<N extends string> {
  /** The ports really bound (differ from the options when they asked for 0). */
  ports: Record<N, number>;
  /**
   * Graceful drain: stops accepting, says goodbye to every session (at once when it waits for its
   * client, else after the command under way), and cuts what is still open after the grace period.
   */
  close(): Promise<void>;
  /** A renewed certificate (watchTlsMaterial): new connections and STARTTLS get it, open ones keep theirs. */
  updateTls(material: { key: string; cert: string }): void;
}

const DEFAULT_DRAIN_GRACE_MS = 10_000;

/**
 * The listeners of a line protocol (a plaintext port with STARTTLS and an implicit-TLS port) and
 * everything before a session: the PROXY header from trusted balancers, the TLS handshake, the caps
 * per client address and in total, then one LineConnection per client.
 */
export async function startLineServer<F, N extends string>(
  options: LineServerOptions<F, N>,
): Promise<LineServer<N>> {
  const { protocol, metrics, logger, timers } = options;
  // Read at each accept, so a renewal reaches every connection that starts after it.
  let secureContext = createSecureContext(options.tls);
  const trusted = new TrustedProxies(options.trustedProxies ?? []);
  const gate = new ConnectionGate({
    maxTotal: options.maxConnections,
    maxPerIp: options.maxConnectionsPerIp,
  });
  const leases = new ConnectionLeases({
    limits: options.limits,
    protocol: protocol.name,
    timing: options.leaseTiming,
    logger,
  });
  const userCaps = [
    { reason: 'per-user', cap: options.maxConnectionsPerUser, key: (user: string) => `user:${user}` },
    {
      reason: 'per-user-ip',
      cap: options.maxConnectionsPerUserIp,
      key: (user: string, ip: string) => `user-ip:${user}:${ip}`,
    },
  ].flatMap(({ cap, ...rest }) =>
    cap === undefined ? [] : [{ ...rest, cap, local: new ConnectionCounter(cap) }],
  );
  const connections = new Set<LineConnection<F>>();
  /** Every accepted socket, also those still in their PROXY header or TLS handshake. */
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;

  function refuse(listener: N, socket: Socket, reason: string, goodbye?: string): void {
    metrics.refused.inc({ listener, reason });
    socket.on('error', () => {});
    if (goodbye === undefined) socket.destroy();
    else socket.end(protocol.goodbye(goodbye, reason === 'shutdown' ? 'shutdown' : 'limit'));
  }

  async function accept(listener: LineListener<N>, raw: Socket): Promise<void> {
    raw.on('error', () => {});
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    let remoteAddress = raw.remoteAddress ?? '';
    const viaProxy = trusted.trusts(remoteAddress);
    if (viaProxy) {
      try {
        const source = await readProxyHeader(raw, timers.preAuthTimeoutMs);
        if (source) remoteAddress = source.address;
      } catch (error) {
        logger.info({ err: error, listener: listener.name, peer: remoteAddress }, 'PROXY header refused');
        return refuse(listener.name, raw, 'proxy');
      }
    }
    let socket: Socket = raw;
    if (listener.implicitTls) {
      const secured = new TLSSocket(raw, { isServer: true, secureContext });
      secured.on('error', () => {});
      // The handshake is pre-auth time too: a peer that never finishes it holds nothing for long.
      raw.setTimeout(timers.preAuthTimeoutMs, () => secured.destroy());
      const ok = await new Promise<boolean>((resolve) => {
        secured.once('secure', () => resolve(true));
        secured.once('close', () => resolve(false));
        secured.once('error', (error) => {
          logger.debug(
            { err: error, listener: listener.name, client: remoteAddress },
            'TLS handshake failed',
          );
          resolve(false);
        });
      });
      raw.setTimeout(0);
      if (!ok) {
        secured.destroy();
        return refuse(listener.name, raw, 'tls');
      }
      socket = secured;
    }
    if (closing) return refuse(listener.name, socket, 'shutdown', 'Server shutting down');
    // The process's own caps first: no backend round trip for what this pod alone can refuse.
    const admission = gate.admit(remoteAddress);
    if (!admission.admitted) {
      const perIp = admission.cap === 'per-ip';
      const text = perIp ? 'Too many connections from your address' : 'Too many connections';
      return refuse(listener.name, socket, admission.cap, text);
    }
    const podsWide = await leases.acquire([{ key: `ip:${remoteAddress}`, cap: options.maxConnectionsPerIp }]);
    if (!podsWide.admitted) {
      admission.release();
      return refuse(listener.name, socket, 'per-ip', 'Too many connections from your address');
    }
    const held = new HeldSlots(admission, podsWide.lease);
    // The backend answered while the client left or the server began to drain.
    if (closing || socket.destroyed) {
      held.releaseAll();
      if (closing) refuse(listener.name, socket, 'shutdown', 'Server shutting down');
      return;
    }
    metrics.connections.inc({ listener: listener.name });
    metrics.activeConnections.inc({ listener: listener.name });
    const connection = new LineConnection(socket, protocol, {
      listener: listener.name,
      remoteAddress,
      secure: listener.implicitTls,
      secureContext: listener.implicitTls ? undefined : secureContext,
      refuseProxyHeader: !viaProxy,
      timers,
      logger: logger.child({ protocol: protocol.name, listener: listener.name, client: remoteAddress }),
      admitUser: async (user) => {
        const refusal = await admitUser(user, remoteAddress, held);
        if (refusal) metrics.refused.inc({ listener: listener.name, reason: refusal });
        return refusal === null;
      },
      releaseUser: () => held.releaseUser(),
    });
    connections.add(connection);
    void connection.finished.then(() => {
      connections.delete(connection);
      held.releaseAll();
      metrics.activeConnections.dec({ listener: listener.name });
    });
  }

  /**
   * Takes the user's slots into `held` (released at logout or with the connection); else names the
   * full cap.
   */
  async function admitUser(user: string, ip: string, held: HeldSlots): Promise<string | null> {
    const taken: ConnectionLease[] = [];
    for (const cap of userCaps) {
      const key = cap.key(user, ip);
      if (!cap.local.acquire(key)) {
        for (const slot of taken) slot.release();
        return cap.reason;
      }
      taken.push({ release: () => cap.local.release(key) });
    }
    if (userCaps.length > 0) {
      const podsWide = await leases.acquire(
        userCaps.map((cap) => ({ key: cap.key(user, ip), cap: cap.cap })),
      );
      if (!podsWide.admitted) {
        for (const slot of taken) slot.release();
        return userCaps[podsWide.index]?.reason ?? 'per-user';
      }
      taken.push(podsWide.lease);
    }
    held.addUser(taken);
    return null;
  }

  const servers: Server[] = [];
  const ports = {} as Record<N, number>;
  try {
    for (const listener of options.listeners) {
      const server = createServer((socket) => void accept(listener, socket));
      // Above the gate's total, so refused clients still get their answer from the protocol.
      server.maxConnections = gate.socketCap;
      servers.push(server);
      ports[listener.name] = await listen(server, listener.port, options.host);
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    leases.close();
    throw error;
  }

  return {
    ports,
    updateTls(material) {
      secureContext = createSecureContext(material);
    },
    close() {
      closing ??= (async () => {
        // Connections still open release their leases as they end; none start after this.
        const stopped = Promise.all(servers.map(closeServer));
        const grace = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, options.drainGraceMs ?? DEFAULT_DRAIN_GRACE_MS);
        grace.unref();
        await Promise.all([...connections].map((connection) => connection.drain()));
        clearTimeout(grace);
        await stopped;
        leases.close();
      })();
      return closing;
    },
  };
}

/**
 * What one connection holds: its address's slots until it ends, a user's slots from login to logout
 * (ManageSieve UNAUTHENTICATE keeps the connection) or to its end. Each slot is given back once, to
 * the counter or lease set that gave it; what is taken after the end goes back at once.
 */
class HeldSlots {
  private readonly connection: ConnectionLease[];
  private readonly user: ConnectionLease[] = [];
  private ended = false;

  constructor(...slots: ConnectionLease[]) {
    this.connection = slots;
  }

  addUser(slots: readonly ConnectionLease[]): void {
    if (this.ended) for (const slot of slots) slot.release();
    else this.user.push(...slots);
  }

  releaseUser(): void {
    for (const slot of this.user.splice(0)) slot.release();
  }

  releaseAll(): void {
    this.ended = true;
    this.releaseUser();
    for (const slot of this.connection.splice(0)) slot.release();
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

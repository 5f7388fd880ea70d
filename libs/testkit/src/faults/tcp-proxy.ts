import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What the proxy does to the traffic: pass it, hold every chunk `ms` before forwarding it (a slow
 * link), stall (accept, forward nothing, until the mode changes: a black hole), or reset every
 * connection with a TCP RST (open ones at once, new ones on accept).
 */
export type ProxyMode =
  { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'stall' } | { kind: 'reset' };

/** A TCP proxy on a loopback port in front of `target`, whose behaviour a test switches. */
export interface TcpFaultProxy {
  /** The proxy's own port: point the client here instead of at the target. */
  port: number;
  mode(): ProxyMode;
  set(mode: ProxyMode): void;
  /** Connections open through the proxy now. */
  open(): number;
  close(): Promise<void>;
}

/**
 * By hand on node:net: the fault proxies there are (toxiproxy) are separate servers with an HTTP API
 * of their own; here a test needs four modes and a switch, in the test's process.
 */
export async function startTcpFaultProxy(target: { host: string; port: number }): Promise<TcpFaultProxy> {
  let current: ProxyMode = { kind: 'pass' };
  // Resolves the stalled pumps when the mode changes away from stall.
  let unstall: (() => void) | undefined;
  let stalled: Promise<void> | undefined;
  const pairs = new Set<[Socket, Socket]>();

  const gate = async () => {
    if (current.kind === 'stall') await stalled;
    if (current.kind === 'delay') await sleep(current.ms);
  };

  // One chunk at a time per direction, so that a delay or stall keeps the byte order.
  const pump = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      from.pause();
      void gate().then(() => {
        if (to.destroyed) return;
        if (to.write(chunk)) from.resume();
        else to.once('drain', () => from.resume());
      });
    });
    from.on('end', () => void gate().then(() => to.end()));
  };

  const server = createServer((client) => {
    if (current.kind === 'reset') return client.resetAndDestroy();
    const upstream = connect(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    pump(client, upstream);
    pump(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');

  return {
    port: address.port,
    mode: () => current,
    set(mode) {
      if (mode.kind === 'stall' && current.kind !== 'stall') {
        stalled = new Promise((resolve) => (unstall = resolve));
      }
      const wasStalled = current.kind === 'stall' && mode.kind !== 'stall';
      current = mode;
      if (wasStalled) unstall?.();
      if (mode.kind === 'reset') {
        for (const [client, upstream] of pairs) {
          client.resetAndDestroy();
          upstream.destroy();
        }
        pairs.clear();
      }
    },
    open: () => pairs.size,
    async close() {
      current = { kind: 'pass' };
      unstall?.();
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

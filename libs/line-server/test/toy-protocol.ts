import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createMemoryLimits, MemoryLimitsState } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { deflateLayer, startLineServer } from '../src/index.js';
import type {
  Framer,
  LineAction,
  LineConnectionIo,
  LineProtocol,
  LineServer,
  LineServerOptions,
  LineSession,
} from '../src/index.js';

/**
 * A toy line protocol for the server's own tests: ECHO, LOGIN, UNAUTH (logged out, the connection
 * stays), WHO (the client address the session sees), STARTTLS, IDLE ... DONE (the idle timer held),
 * BIG n (n octets, written with backpressure), SLOW (waits until the test releases it), DEFLATE (both
 * ways through deflateLayer from then on), UPLOAD n + n octets (a bulk transfer into `control.sink`),
 * QUIT. Goodbyes read `* BYE <reason> <text>`.
 */
class Lines implements Framer<string> {
  private pending = '';
  private readonly lines: string[] = [];
  /** UPLOAD n: the next n octets are a bulk transfer, handed to `bulk` as they arrive. */
  private bulkLeft = 0;
  private bulkTotal = 0;

  constructor(private readonly bulk: (chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.bulkLeft > 0) {
        const piece = rest.subarray(0, this.bulkLeft);
        this.bulk(piece);
        this.bulkLeft -= piece.length;
        rest = rest.subarray(piece.length);
        if (this.bulkLeft === 0) this.lines.push(`UPLOADED ${this.bulkTotal}`);
        continue;
      }
      const end = rest.indexOf('\n');
      if (end === -1) {
        this.pending += rest.toString('latin1');
        return;
      }
      const line = (this.pending + rest.subarray(0, end).toString('latin1')).replace(/\r$/, '');
      this.pending = '';
      rest = rest.subarray(end + 1);
      const upload = /^UPLOAD (\d+)$/.exec(line);
      if (upload) this.bulkLeft = this.bulkTotal = Number(upload[1]);
      else this.lines.push(line);
    }
  }
  next(): string | null {
    return this.lines.shift() ?? null;
  }
  discard(): void {
    this.pending = '';
    this.lines.length = 0;
  }
  get receivingBulk(): boolean {
    return this.bulkLeft > 0;
  }
}

export interface ToyControl {
  /** Released SLOW commands finish. */
  releaseSlow(): void;
  /** Sessions currently inside SLOW. */
  slowRunning: number;
  /** BIG: octets the socket took so far, and whether a write waits for the client to read. */
  bigAccepted: number;
  bigBlocked: boolean;
  /** UPLOAD: where the octets go (the test decides when it reads), how many arrived, held now. */
  sink: PassThrough;
  uploaded: number;
  readingHeld: boolean;
}

export function toyProtocol(control: ToyControl): LineProtocol<string> {
  let release: () => void = () => {};
  let slow = new Promise<void>((resolve) => (release = resolve));
  control.releaseSlow = () => {
    release();
    slow = new Promise<void>((resolve) => (release = resolve));
  };
  return {
    name: 'toy',
    goodbye: (text, reason) => `* BYE ${reason} ${text}\r\n`,
    open(io: LineConnectionIo<string>): LineSession<string> {
      let authenticated = false;
      let secure = io.secure;
      return {
        framer: new Lines((chunk) => {
          control.uploaded += chunk.length;
          if (control.sink.write(chunk)) return;
          control.readingHeld = true;
          const drained = once(control.sink, 'drain').then(() => (control.readingHeld = false));
          io.holdReading(drained);
        }),
        greeting: () => '* HELLO\r\n',
        get authenticated() {
          return authenticated;
        },
        tlsStarted: () => (secure = true),
        close: async () => {},
        async handle(line: string): Promise<LineAction> {
          const [verb, ...args] = line.split(' ');
          switch (verb) {
            case 'ECHO':
              await io.write(`${args.join(' ')}\r\n`);
              return 'continue';
            case 'LOGIN':
              if (!(await io.admitUser(args[0] ?? 'toy'))) {
                await io.write('NO too many sessions of this user\r\n');
                return 'continue';
              }
              authenticated = true;
              await io.write('OK logged in\r\n');
              return 'continue';
            case 'UNAUTH':
              authenticated = false;
              await io.write('OK logged out\r\n');
              return 'continue';
            case 'WHO':
              await io.write(`${io.remoteAddress} ${secure ? 'tls' : 'plain'}\r\n`);
              return 'continue';
            case 'STARTTLS':
              await io.write('OK go\r\n');
              return 'starttls';
            case 'DEFLATE':
              if (io.layered) {
                await io.write('NO deflating already\r\n');
                return 'continue';
              }
              await io.write('OK deflating\r\n');
              io.addLayer(deflateLayer());
              return 'continue';
            case 'IDLE': {
              await io.write('+ idling\r\n');
              io.holdIdleTimer(true);
              try {
                while ((await io.nextFrame()) !== 'DONE');
              } finally {
                io.holdIdleTimer(false);
              }
              await io.write('OK idle done\r\n');
              return 'continue';
            }
            case 'BIG': {
              const chunk = Buffer.alloc(64 * 1024, 'x');
              let left = Number(args[0]);
              while (left > 0) {
                const piece = chunk.subarray(0, Math.min(left, chunk.length));
                control.bigBlocked = true;
                await io.write(piece);
                control.bigBlocked = false;
                control.bigAccepted += piece.length;
                left -= piece.length;
              }
              await io.write('\r\nOK big done\r\n');
              return 'continue';
            }
            case 'SLOW':
              control.slowRunning++;
              await slow;
              control.slowRunning--;
              await io.write('OK slow done\r\n');
              return 'continue';
            case 'UPLOADED':
              await io.write(`OK uploaded ${args[0]}\r\n`);
              return 'continue';
            case 'QUIT':
              await io.write('OK bye\r\n');
              return 'close';
            default:
              await io.write('BAD unknown\r\n');
              return 'continue';
          }
        },
      };
    },
  };
}

export function newControl(): ToyControl {
  return {
    releaseSlow: () => {},
    slowRunning: 0,
    bigAccepted: 0,
    bigBlocked: false,
    sink: new PassThrough({ highWaterMark: 64 * 1024 }),
    uploaded: 0,
    readingHeld: false,
  };
}

const metric = { inc() {}, dec() {} };

export async function startToyServer(
  control: ToyControl,
  tls: { key: string; cert: string },
  overrides: Partial<LineServerOptions<string, 'plain' | 'secure'>> = {},
): Promise<LineServer<'plain' | 'secure'>> {
  return startLineServer({
    protocol: toyProtocol(control),
    listeners: [
      { name: 'plain', port: 0, implicitTls: false },
      { name: 'secure', port: 0, implicitTls: true },
    ],
    host: '127.0.0.1',
    tls,
    maxConnections: 100,
    maxConnectionsPerIp: 50,
    timers: { idleTimeoutMs: 60_000, preAuthTimeoutMs: 60_000 },
    metrics: { connections: metric, activeConnections: metric, refused: metric },
    logger: createLogger('line-server-test', 'silent'),
    ...overrides,
    // A state of its own unless the test shares one: the servers of other tests hold leases too.
    limits: overrides.limits ?? createMemoryLimits({ state: new MemoryLimitsState() }),
  });
}

import { createPostgresDirectory } from '@correo/directory';
import type { Limits } from '@correo/limits';
import { createLogger } from '@correo/telemetry';
import { openTestStack, TestStack, type StackKind } from '@correo/testkit/stack';
import type { TlsMaterial } from '@correo/tls';
import { defaultManageSieveGatewayConfig, startManageSieveGateway } from '../../src/index.js';
import type {
  ManageSieveGateway,
  ManageSieveGatewayConfig,
  ManageSieveGatewayDeps,
} from '../../src/index.js';

/** A test stack (fresh database, limits of its kind) with ManageSieve gateways started over it. */
export class ManageSieveTestStack extends TestStack {
  private constructor(
    opened: TestStack,
    readonly tls: TlsMaterial,
  ) {
    super(opened);
  }

  static async create(kind: StackKind): Promise<ManageSieveTestStack> {
    const opened = await openTestStack(kind);
    return new ManageSieveTestStack(opened, await opened.certificate());
  }

  /** A gateway on a free port over this stack's backends. */
  async startGateway(
    overrides: Partial<ManageSieveGatewayConfig> = {},
    extra: Pick<ManageSieveGatewayDeps, 'loginPolicy' | 'trustedProxies' | 'store'> & {
      limits?: Limits;
    } = {},
  ): Promise<ManageSieveGateway> {
    const gateway = await startManageSieveGateway({
      config: defaultManageSieveGatewayConfig({ port: 0, hostname: 'localhost', ...overrides }),
      pool: this.pool,
      blobs: this.blobs,
      directory: createPostgresDirectory(this.pool),
      limits: extra.limits ?? this.limits,
      notifier: this.notifier,
      logger: createLogger('managesieve-test', 'silent'),
      tls: this.tls,
      ...extra,
    });
    this.defer(() => gateway.close());
    return gateway;
  }
}

import type { MailboxChangePublisher } from '@correo/notify';
import type { Pool } from './pool.js';

/**
 * What every write path to a mailbox needs: the pool it writes through and the feed it publishes
 * the committed change to. Taking both as one argument is what keeps a caller from forgetting to
 * notify the other sessions (the write publishes after its COMMIT, as Stalwart's store does).
 */
export interface MailboxWriter {
  pool: Pool;
  changes: MailboxChangePublisher;
}

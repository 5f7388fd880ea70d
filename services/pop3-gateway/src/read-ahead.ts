import type { Readable } from 'node:stream';

/** A body opened ahead but not asked for within this long is dropped: the store may time the read out. */
const FRESH_FOR_MS = 2000;

interface Opened {
  blobKey: string;
  body: Promise<Readable>;
  openedAt: number;
}

/**
 * Opens the next message's body while the client is still reading the current one. Clients retrieve
 * in order (fetchmail, poplib loops, curl), and an S3 round trip costs more than sending a small
 * message, so overlapping the two roughly doubles retrieval from a distributed blob store.
 */
export class ReadAhead {
  private opened: Opened | undefined;

  constructor(private readonly open: (blobKey: string) => Promise<Readable>) {}

  /** The body of `blobKey`, from the read-ahead when it is the one opened and still fresh. */
  take(blobKey: string): Promise<Readable> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened && opened.blobKey === blobKey && Date.now() - opened.openedAt < FRESH_FOR_MS) {
      return opened.body.then((body) => (body.destroyed || body.errored ? this.open(blobKey) : body));
    }
    if (opened) drop(opened);
    return this.open(blobKey);
  }

  prepare(blobKey: string): void {
    this.discard();
    const body = this.open(blobKey);
    // Failures surface when (if) the message is taken; until then nobody is waiting.
    body.catch(() => {});
    this.opened = { blobKey, body, openedAt: Date.now() };
  }

  discard(): void {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) drop(opened);
  }
}

function drop(opened: Opened): void {
  opened.body.then(
    (body) => body.destroy(),
    () => {},
  );
}

import { ImapFlow } from 'imapflow';

/** What one IMAP reader saw and did, for the checks after the run. */
export interface ReaderRecord {
  account: string;
  sessions: number;
  errors: string[];
  /** Message-IDs it expunged and saw the tagged OK for. */
  expunged: Set<string>;
  /** Message-IDs whose expunge it sent without seeing the outcome (the session died): maybe gone. */
  maybeExpunged: Set<string>;
  moved: number;
  flagged: number;
  /** Messages seen with a UID, and with a MODSEQ (CONDSTORE): the checks below had something to check. */
  seenUids: number;
  seenModseqs: number;
  /** Violations it saw: a UID reused for another message, a new UID below one already seen, MODSEQ going back. */
  violations: string[];
}

interface MailboxView {
  uidValidity: bigint;
  /** uid -> Message-ID */
  uids: Map<number, string>;
  maxUid: number;
  highestModseq: bigint;
  modseqs: Map<number, bigint>;
}

/**
 * An IMAP client as a person's mail program has it, in a loop until `until()` says stop: log in
 * on one of the gateways, read INBOX and Archive (UID, Message-ID, flags, MODSEQ), flag some as
 * seen, move some to Archive, and delete (\Deleted + EXPUNGE) the ones marked disposable. A killed
 * gateway ends the session; it logs in again (perhaps on the other one) after a short pause.
 */
export async function imapReader(options: {
  account: { address: string; password: string };
  ports: number[];
  random: () => number;
  until: () => boolean;
}): Promise<ReaderRecord> {
  const record: ReaderRecord = {
    account: options.account.address,
    sessions: 0,
    errors: [],
    expunged: new Set(),
    maybeExpunged: new Set(),
    moved: 0,
    flagged: 0,
    seenUids: 0,
    seenModseqs: 0,
    violations: [],
  };
  const views = new Map<string, MailboxView>();
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const observe = (
    mailbox: string,
    uidValidity: bigint,
    highestModseq: bigint | undefined,
    seen: Map<number, { mid: string; modseq?: bigint }>,
  ) => {
    let view = views.get(mailbox);
    if (!view || view.uidValidity !== uidValidity) {
      if (view)
        record.violations.push(`${mailbox}: UIDVALIDITY changed from ${view.uidValidity} to ${uidValidity}`);
      view = { uidValidity, uids: new Map(), maxUid: 0, highestModseq: 0n, modseqs: new Map() };
      views.set(mailbox, view);
    }
    if (highestModseq !== undefined) {
      if (highestModseq < view.highestModseq)
        record.violations.push(
          `${mailbox}: HIGHESTMODSEQ went back from ${view.highestModseq} to ${highestModseq}`,
        );
      else view.highestModseq = highestModseq;
    }
    const before = view.maxUid;
    for (const [uid, { mid, modseq }] of seen) {
      record.seenUids++;
      if (modseq !== undefined) record.seenModseqs++;
      const known = view.uids.get(uid);
      if (known === undefined) {
        if (uid <= before)
          record.violations.push(
            `${mailbox}: new message ${mid} got UID ${uid}, below ${before} already seen`,
          );
        view.uids.set(uid, mid);
      } else if (known !== mid) {
        record.violations.push(`${mailbox}: UID ${uid} reused (${known}, then ${mid})`);
      }
      if (modseq !== undefined) {
        const earlier = view.modseqs.get(uid);
        if (earlier !== undefined && modseq < earlier)
          record.violations.push(`${mailbox}: MODSEQ of UID ${uid} went back from ${earlier} to ${modseq}`);
        view.modseqs.set(uid, modseq);
      }
      view.maxUid = Math.max(view.maxUid, uid);
    }
  };

  while (!options.until()) {
    const port = options.ports[Math.floor(options.random() * options.ports.length)]!;
    const client = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      tls: { rejectUnauthorized: false },
      auth: { user: options.account.address, pass: options.account.password },
      logger: false,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    client.on('error', () => {});
    let pending: string[] = [];
    try {
      await client.connect();
      record.sessions++;
      for (const mailbox of ['INBOX', 'Archive']) {
        const opened = await client.mailboxOpen(mailbox);
        const seen = new Map<number, { mid: string; modseq?: bigint }>();
        const disposable: number[] = [];
        const keep: number[] = [];
        if (opened.exists > 0) {
          for await (const message of client.fetch(
            '1:*',
            { uid: true, envelope: true, flags: true, headers: ['x-faults-disposable'] },
            { uid: false },
          )) {
            const mid = message.envelope?.messageId ?? '';
            seen.set(message.uid, { mid, modseq: message.modseq });
            if (message.headers?.toString('utf8').toLowerCase().includes('yes')) disposable.push(message.uid);
            else keep.push(message.uid);
          }
        }
        observe(mailbox, opened.uidValidity, opened.highestModseq, seen);
        // Some get \Seen, some INBOX messages move to Archive, the disposable ones are deleted.
        const flag = keep.filter(() => options.random() < 0.3);
        if (flag.length) {
          await client.messageFlagsAdd(flag, ['\\Seen'], { uid: true });
          record.flagged += flag.length;
        }
        if (mailbox === 'INBOX') {
          const move = keep.filter(() => options.random() < 0.2);
          if (move.length) {
            await client.messageMove(move, 'Archive', { uid: true });
            record.moved += move.length;
          }
        }
        if (disposable.length) {
          pending = disposable.map((uid) => seen.get(uid)!.mid);
          for (const mid of pending) record.maybeExpunged.add(mid);
          await client.messageDelete(disposable, { uid: true });
          for (const mid of pending) {
            record.expunged.add(mid);
            record.maybeExpunged.delete(mid);
          }
          pending = [];
        }
      }
      await client.logout();
    } catch (error) {
      record.errors.push(`${port}: ${(error as Error).message}`.slice(0, 200));
      client.close();
    }
    await pause(300 + options.random() * 700);
  }
  return record;
}

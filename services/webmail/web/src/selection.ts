/**
 * The message list's multi-selection as mail clients have it: a plain click opens one message and
 * picks nothing (it becomes the anchor), Ctrl/Cmd+click (or the row's checkbox) adds or removes one,
 * Shift+click picks the range from the anchor to the clicked row.
 */
export class Selection {
  readonly uids = new Set<number>();
  #anchor: number | null = null;

  get size(): number {
    return this.uids.size;
  }

  has(uid: number): boolean {
    return this.uids.has(uid);
  }

  /** A plain click: the selection is dropped and this message becomes the anchor of a Shift range. */
  focus(uid: number): void {
    this.uids.clear();
    this.#anchor = uid;
  }

  /** `order` is the list as shown, so a range is what the user sees between the two rows. */
  click(uid: number, how: { shift: boolean; toggle: boolean }, order: readonly number[]): void {
    if (how.shift && this.#anchor !== null && order.includes(this.#anchor)) {
      const from = order.indexOf(this.#anchor);
      const to = order.indexOf(uid);
      if (!how.toggle) this.uids.clear();
      for (const picked of order.slice(Math.min(from, to), Math.max(from, to) + 1)) this.uids.add(picked);
      return;
    }
    if (how.toggle) {
      if (!this.uids.delete(uid)) this.uids.add(uid);
    } else {
      this.uids.clear();
      this.uids.add(uid);
    }
    this.#anchor = uid;
  }

  all(order: readonly number[]): void {
    for (const uid of order) this.uids.add(uid);
  }

  clear(): void {
    this.uids.clear();
    this.#anchor = null;
  }

  /** After a reload: messages no longer listed (moved, deleted elsewhere) drop out of the selection. */
  keepOnly(order: readonly number[]): void {
    const listed = new Set(order);
    for (const uid of this.uids) if (!listed.has(uid)) this.uids.delete(uid);
  }
}

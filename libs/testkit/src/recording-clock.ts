/**
 * A clock that only moves when code sleeps on it: inject `now` and `sleep` into code that waits (the
 * login policy), then assert the waits it asked for as values. Tests never measure time.
 */
export class RecordingClock {
  time = 0;
  /** Every wait asked for, in order. */
  readonly waits: number[] = [];
  readonly now = (): number => this.time;
  readonly sleep = async (ms: number): Promise<void> => {
    this.waits.push(ms);
    this.time += ms;
  };

  /** The waits asked for while `action` ran, with its result. */
  async during<T>(action: () => Promise<T>): Promise<{ result: T; waits: number[] }> {
    const from = this.waits.length;
    const result = await action();
    return { result, waits: this.waits.slice(from) };
  }
}

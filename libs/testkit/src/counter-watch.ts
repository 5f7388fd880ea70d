/** What a prom-client counter gives back from get(), as far as a test reads it. */
interface CounterReading {
  get(): Promise<{ values: { labels: Partial<Record<string, string | number>>; value: number }[] }>;
}

/**
 * How much a counter grew while a test acted, by one label, among the series whose other labels
 * match: `start` before, `added` after. Series that did not grow are left out, so a test can
 * deepEqual the whole answer.
 */
export class CounterWatch {
  private constructor(
    private readonly counter: CounterReading,
    private readonly by: string,
    private readonly where: Record<string, string>,
    private readonly before: Record<string, number>,
  ) {}

  static async start(
    counter: CounterReading,
    by: string,
    where: Record<string, string> = {},
  ): Promise<CounterWatch> {
    return new CounterWatch(counter, by, where, await CounterWatch.read(counter, by, where));
  }

  async added(): Promise<Record<string, number>> {
    const now = await CounterWatch.read(this.counter, this.by, this.where);
    return Object.fromEntries(
      Object.entries(now)
        .map(([key, value]) => [key, value - (this.before[key] ?? 0)] as const)
        .filter(([, grown]) => grown !== 0),
    );
  }

  private static async read(
    counter: CounterReading,
    by: string,
    where: Record<string, string>,
  ): Promise<Record<string, number>> {
    const { values } = await counter.get();
    const matching = values.filter((v) =>
      Object.entries(where).every(([label, want]) => v.labels[label] === want),
    );
    return Object.fromEntries(matching.map((v) => [String(v.labels[by]), v.value]));
  }
}

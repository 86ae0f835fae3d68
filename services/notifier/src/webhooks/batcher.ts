/**
 * Groups concurrent calls into one batch call: items added while a batch is running wait for the
 * next one (at most `maxInFlight` batches at once, at most `maxSize` items each). Under load, one
 * SQL statement serves many delivery attempts instead of one round trip each; when idle, a call
 * goes out on the next turn of the event loop, or after `lingerMs` when items trickle in one by
 * one (sends finishing at their own times) and fewer statements are worth a few milliseconds.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxSize = 200,
    private readonly maxInFlight = 2,
    private readonly lingerMs = 0,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.flush();
    };
    if (this.lingerMs > 0 && this.queue.length < this.maxSize) setTimeout(run, this.lingerMs);
    else setImmediate(run);
  }

  private flush(): void {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxSize);
    this.inFlight++;
    this.run(batch.map((b) => b.item))
      .then(
        (out) => batch.forEach((b, i) => b.resolve(out[i])),
        (error: unknown) => batch.forEach((b) => b.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
  }
}

/** Counting semaphore with FIFO hand-over: a released permit goes to the longest waiter. */
export class Semaphore {
  private readonly waiting: Array<(granted: boolean) => void> = [];
  private closed = false;

  constructor(private permits: number) {}

  /** True with a permit; false once closed (nothing to release then). */
  async acquire(): Promise<boolean> {
    if (this.closed) return false;
    if (this.permits > 0) {
      this.permits--;
      return true;
    }
    return new Promise<boolean>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.permits++;
  }

  /** Waiters and later acquires get false; permits held stay valid until released. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w(false);
  }
}

/**
 * Collects messages for another thread and sends them as one array after the current event-loop turn.
 * A postMessage costs a structured clone, a lock and a wake-up of the other thread; under load one
 * telegram caused several of them on each side, so messages queued in one turn share a single post.
 * `microtask`: send once the current microtasks have run instead, for answers that someone waits for
 * (the writer's replies: the promises one commit settles reply in one post, before the next commit).
 */
export class MessageBatch<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly when: 'turn' | 'microtask' = 'turn',
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.when === 'microtask') queueMicrotask(() => this.flush());
    else setImmediate(() => this.flush());
  }

  /** Sends what is queued now (also before a port closes). */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.send(items);
  }
}

/** Live dedup entries kept at most; beyond it the oldest go first (a repeat of one is then stored again, never lost). */
export const DEDUP_MEMORY_MAX = 1_000_000;

interface Entry {
  ingestId: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * The dedup window of the SQLite store, in the writer's memory instead of a table. SQLite has one
 * writer per database (the process lock), so this map sees every insert; a random 64-digit key in
 * a B-tree dirtied a different page per telegram, and writing those pages at each commit was most
 * of a batch upload's cost (bench/README.md). The telegrams table keeps dedup_hash and created_at,
 * so the index is rebuilt from it after a restart: the same answers as the table gave.
 *
 * Claims made inside a transaction are journaled; the group commit rolls them back with the
 * transaction, so a claim never outlives the telegram row it stands for.
 */
export class DedupIndex {
  /** Insertion order is claim order, so the oldest entries come first. */
  private readonly entries = new Map<string, Entry>();
  /** Claims since the last commit: the key and what it held before, to undo a rollback. */
  private journal: Array<[string, Entry | undefined]> = [];
  /** Whether the telegrams table's window has been read in (at start, or lazily by the first claim). */
  private loaded = false;

  constructor(private readonly max = DEDUP_MEMORY_MAX) {}

  get size(): number {
    return this.entries.size;
  }

  /** Whether load() has run. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Rebuilds the entries from stored telegrams `[dedupHash, ingestId, createdAt]`, oldest first, as the claims that made them. */
  load(rows: Iterable<readonly [string, string, number]>, windowMs: number): void {
    // Not journaled: there is no transaction to roll back, and trimming to `max` while reading
    // keeps a long DEDUP_WINDOW_S from holding more telegrams than the index keeps.
    for (const [hash, ingestId, createdAt] of rows) this.put(hash, ingestId, createdAt + windowMs, createdAt, false);
    this.loaded = true;
  }

  /** Claims `hash` for `ingestId` until `expiresAt`; returns the ingest id that holds it when a live entry does. */
  claim(hash: string, ingestId: string, expiresAt: number, now: number): string | null {
    return this.put(hash, ingestId, expiresAt, now, true);
  }

  private put(hash: string, ingestId: string, expiresAt: number, now: number, journaled: boolean): string | null {
    const held = this.entries.get(hash);
    if (held !== undefined && held.expiresAt > now) return held.ingestId;
    if (journaled) this.journal.push([hash, held]);
    if (held !== undefined) this.entries.delete(hash); // re-inserted at the end: it is the newest now
    this.entries.set(hash, { ingestId, expiresAt });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      if (journaled) this.journal.push([oldest, this.entries.get(oldest)]);
      this.entries.delete(oldest);
    }
    return null;
  }

  /** A position in the journal, to roll back to. */
  mark(): number {
    return this.journal.length;
  }

  /** Undoes the claims after `mark` (their transaction or savepoint was rolled back). */
  rollbackTo(mark: number): void {
    while (this.journal.length > mark) {
      const [hash, before] = this.journal.pop()!;
      if (before === undefined) this.entries.delete(hash);
      else this.entries.set(hash, before);
    }
  }

  /** The transaction committed: its claims stay. */
  commit(): void {
    this.journal = [];
  }

  /** Drops expired entries (from the oldest on); returns how many. */
  purge(now: number): number {
    let n = 0;
    for (const [hash, e] of this.entries) {
      if (e.expiresAt > now) break;
      this.entries.delete(hash);
      n++;
    }
    return n;
  }
}

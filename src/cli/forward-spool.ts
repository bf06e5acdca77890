import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { ForwardTelegram } from './forward-formats.js';

/** A telegram waiting for the bridge's answer, with the client_id that makes its resend idempotent. */
export interface SpoolItem extends ForwardTelegram {
  client_id: string;
  gateway_id: string;
}

/**
 * Telegrams not yet acknowledged, in a JSON Lines file: appended as they are read, rewritten (write to a
 * temp file, rename) after every acknowledged batch. A forwarder restarted on the same file sends the
 * items again with their original client_ids, so the bridge stores none of them twice. Synchronous file
 * calls on purpose: append and rewrite never interleave, and a line is on disk before it is sent.
 */
export class Spool {
  readonly pending: SpoolItem[] = [];

  constructor(private readonly path: string) {}

  /** Loads what an earlier run left; returns how many. A torn last line (crash mid-append) is dropped. */
  load(): number {
    if (!existsSync(this.path)) return 0;
    const text = readFileSync(this.path, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const item = JSON.parse(line) as SpoolItem;
        if (typeof item.client_id === 'string' && typeof item.raw_hex === 'string') this.pending.push(item);
      } catch {
        // only the last line can be torn
      }
    }
    // A torn line left in place would glue the next append onto itself, and that telegram would be lost at the next load.
    if (text !== '' && !text.endsWith('\n')) this.rewrite();
    return this.pending.length;
  }

  add(item: SpoolItem): void {
    appendFileSync(this.path, `${JSON.stringify(item)}\n`);
    this.pending.push(item);
  }

  /** Drops the first `n` pending items (acknowledged) and rewrites the file with the rest. */
  ack(n: number): void {
    this.pending.splice(0, n);
    this.rewrite();
  }

  /** The file with exactly the pending items: a synced temp file renamed over it, so a crash leaves the old or the new file. */
  private rewrite(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, this.pending.map((i) => `${JSON.stringify(i)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}

import { type AflFragment, isComplete, reassembleAfl } from '../../wmbus/index.js';

export interface FragmentBufferOptions {
  /** Messages held at once; the oldest is dropped beyond this. Default 1000. */
  maxMessages?: number;
  /** Fragments of one message; a higher FID fails the message. Default 16. */
  maxFragments?: number;
  /** How long the first fragment waits for the rest, ms. Default 120 000. */
  ttlMs?: number;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

export type FragmentOutcome =
  | { kind: 'complete'; rawHex: string; fragments: number }
  | { kind: 'pending'; held: number }
  | { kind: 'error'; error: string };

interface Held {
  fragments: Map<number, AflFragment>;
  firstAt: number;
}

/**
 * Holds AFL fragments (EN 13757-7 clause 6) per sender until a message is complete, then hands
 * back the reassembled telegram. In memory, bounded in messages, fragments and time: fragments of
 * one message must reach the same process (one bridge instance, one pipeline thread); a restart or
 * another instance loses what is held, and those fragments stay errors (README "AFL fragments").
 */
export class FragmentBuffer {
  private readonly held = new Map<string, Held>();
  private readonly maxMessages: number;
  private readonly maxFragments: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: FragmentBufferOptions = {}) {
    this.maxMessages = opts.maxMessages ?? 1000;
    this.maxFragments = opts.maxFragments ?? 16;
    this.ttlMs = opts.ttlMs ?? 120_000;
    this.now = opts.now ?? Date.now;
  }

  /** Messages waiting for fragments. */
  get size(): number {
    return this.held.size;
  }

  get ttlSeconds(): number {
    return Math.round(this.ttlMs / 1000);
  }

  add(f: AflFragment): FragmentOutcome {
    const now = this.now();
    this.expire(now);
    if (f.fid > this.maxFragments) {
      this.held.delete(f.sender);
      return { kind: 'error', error: `fragment ${f.fid}: more than ${this.maxFragments} fragments are not reassembled` };
    }
    let h = this.held.get(f.sender);
    // A new first fragment starts a new message: whatever was held for this sender is incomplete for good.
    if (h !== undefined && f.fid === 1 && h.fragments.has(1)) {
      this.held.delete(f.sender);
      h = undefined;
    }
    if (h === undefined) {
      if (this.held.size >= this.maxMessages) {
        const oldest = this.held.keys().next().value;
        if (oldest !== undefined) this.held.delete(oldest);
      }
      h = { fragments: new Map(), firstAt: now };
      this.held.set(f.sender, h);
    }
    h.fragments.set(f.fid, f);
    const all = [...h.fragments.values()];
    if (!isComplete(all)) return { kind: 'pending', held: all.length };
    this.held.delete(f.sender);
    const r = reassembleAfl(all);
    return 'error' in r ? { kind: 'error', error: r.error } : { kind: 'complete', rawHex: r.hex, fragments: all.length };
  }

  /** Map order is insertion order, so the oldest messages are first. */
  private expire(now: number): void {
    for (const [sender, h] of this.held) {
      if (now - h.firstAt < this.ttlMs) break;
      this.held.delete(sender);
    }
  }
}

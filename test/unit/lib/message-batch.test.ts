import { describe, expect, it } from 'vitest';
import { MessageBatch } from '../../../src/lib/message-batch.js';

describe('MessageBatch', () => {
  it('sends what one turn queued as one array, after the turn', async () => {
    const sent: number[][] = [];
    const batch = new MessageBatch<number>((items) => sent.push(items));
    batch.push(1);
    batch.push(2);
    await Promise.resolve();
    expect(sent).toEqual([]); // not before the turn ends
    await new Promise((r) => setImmediate(r));
    batch.push(3);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[1, 2], [3]]);
  });

  it("'microtask' sends once the current microtasks ran, before timers and immediates", async () => {
    const sent: string[][] = [];
    const batch = new MessageBatch<string>((items) => sent.push(items), 'microtask');
    let immediateSaw = -1;
    setImmediate(() => {
      immediateSaw = sent.length;
    });
    // Promises settled together (as by one commit) reply in one post even through a few awaits.
    await Promise.all(['a', 'b', 'c'].map(async (x) => {
      await Promise.resolve();
      batch.push(x);
    }));
    expect(sent).toEqual([['a', 'b', 'c']]);
    await new Promise((r) => setImmediate(r));
    expect(immediateSaw).toBe(1);
  });

  it('flush() sends at once and leaves nothing for the scheduled send', async () => {
    const sent: number[][] = [];
    const batch = new MessageBatch<number>((items) => sent.push(items));
    batch.push(7);
    batch.flush();
    expect(sent).toEqual([[7]]);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[7]]);
  });
});

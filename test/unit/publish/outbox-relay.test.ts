import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/observability/events.js';
import type { MqttConnection } from '../../../src/publish/mqtt-connection.js';
import { OutboxRelay } from '../../../src/publish/outbox-relay.js';
import type { Outbox } from '../../../src/store/roles.js';
import type { OutboxMessage, OutboxRow } from '../../../src/store/store.js';

/** An outbox in memory: claims lock rows in id order, as the stores do. */
class MemoryOutbox implements Outbox {
  rows: Array<OutboxRow & { locked: boolean }> = [];
  claims: number[] = [];
  published: number[] = [];
  released: number[] = [];
  private nextId = 1;

  add(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = this.nextId++;
      this.rows.push({ id, ingestId: `i${id}`, kind: 'reading', topic: `t/${id}`, payload: '{}', qos: 1, retain: false, locked: false });
    }
  }

  async claimOutbox(limit: number): Promise<OutboxRow[]> {
    const rows = this.rows.filter((r) => !r.locked).slice(0, limit);
    for (const r of rows) r.locked = true;
    this.claims.push(rows.length);
    return rows.map(({ locked: _locked, ...r }) => r);
  }

  async markPublished(ids: number[]): Promise<void> {
    this.published.push(...ids);
    this.rows = this.rows.filter((r) => !ids.includes(r.id));
  }

  async releaseOutbox(ids: number[]): Promise<void> {
    this.released.push(...ids);
    for (const r of this.rows) if (ids.includes(r.id)) r.locked = false;
  }

  async enqueueMessages(_messages: OutboxMessage[]): Promise<void> {}
}

/** A broker connection whose PUBACKs the test hands out. */
class HeldBroker {
  readonly connected = true;
  pending: Array<{ topic: string; ack: () => void; fail: () => void }> = [];

  async waitForConnect(): Promise<void> {}

  publish(topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, ack: resolve, fail: () => reject(new Error('no PUBACK')) });
    });
  }

  ackAll(): void {
    for (const p of this.pending.splice(0)) p.ack();
  }
}

const log = pino({ enabled: false });
const opts = { instanceId: 'test', batchSize: 10, window: 3, leaseMs: 30_000, publishTimeoutMs: 10_000, idlePollMs: 20 };
let relay: OutboxRelay | undefined;
let held: HeldBroker | undefined;

function start(outbox: MemoryOutbox, broker: HeldBroker): OutboxRelay {
  held = broker;
  relay = new OutboxRelay(outbox, broker as unknown as MqttConnection, new EventBus(log), log, opts);
  relay.start();
  return relay;
}

/** A relay running over an outbox of `rows` messages and a broker that holds every PUBACK. */
function running(rows: number): { outbox: MemoryOutbox; broker: HeldBroker; relay: OutboxRelay } {
  const outbox = new MemoryOutbox();
  const broker = new HeldBroker();
  outbox.add(rows);
  return { outbox, broker, relay: start(outbox, broker) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  const r = relay;
  relay = undefined;
  let stopped = r === undefined;
  const stopping = r?.stop(0).then(() => { stopped = true; });
  // stop() waits for the batches in flight, also one claimed while it was called.
  while (!stopped) {
    held?.ackAll();
    await sleep(5);
  }
  await stopping;
});

describe('OutboxRelay', () => {
  it('publishes further batches while earlier ones wait for their PUBACKs, up to the window', async () => {
    const { outbox, broker } = running(100);
    // No PUBACK yet: a relay that waits for each batch would stop at 10 messages.
    await expect.poll(() => broker.pending.length).toBe(30);
    await sleep(50);
    expect(broker.pending.length).toBe(30);
    expect(broker.pending.map((p) => p.topic).slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => `t/${i + 1}`));

    broker.ackAll();
    await expect.poll(() => outbox.published.length).toBeGreaterThanOrEqual(30);
    for (;;) {
      broker.ackAll();
      if (outbox.rows.length === 0) break;
      await sleep(5);
    }
    expect([...outbox.published].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('once caught up, claims again only after a batch in flight has finished', async () => {
    const { outbox, broker } = running(3);
    await expect.poll(() => broker.pending.length).toBe(3);
    outbox.add(2);
    await sleep(60);
    // A trickle claimed a few rows at a time would already have the two new rows out.
    expect(outbox.claims).toEqual([3]);
    expect(broker.pending.length).toBe(3);
    broker.ackAll();
    await expect.poll(() => broker.pending.length).toBe(2);
    expect(outbox.claims.slice(0, 2)).toEqual([3, 2]);
  });

  it('releases what the broker did not acknowledge and backs off until the batches in flight have settled', async () => {
    const { outbox, broker } = running(30);
    await expect.poll(() => broker.pending.length).toBe(30);
    const [first, second, third] = [broker.pending.slice(0, 10), broker.pending.slice(10, 20), broker.pending.slice(20)];
    broker.pending = [];
    for (const p of first) p.fail();
    await expect.poll(() => outbox.released.length).toBe(10);
    await sleep(60);
    // Backing off: the released rows are not claimed while the other two batches are still out.
    expect(outbox.claims).toEqual([10, 10, 10]);
    expect(broker.pending.length).toBe(0);
    for (const p of [...second, ...third]) p.ack();
    await expect.poll(() => broker.pending.length).toBe(10);
    expect(broker.pending.map((p) => p.topic)).toEqual(Array.from({ length: 10 }, (_, i) => `t/${i + 1}`));
    broker.ackAll();
    await expect.poll(() => outbox.rows.length).toBe(0);
  });

  it('a failed delete is tried again before anything new is claimed', async () => {
    const outbox = new MemoryOutbox();
    const broker = new HeldBroker();
    const calls: string[] = [];
    const claimOutbox = outbox.claimOutbox.bind(outbox);
    const markPublished = outbox.markPublished.bind(outbox);
    let failures = 1;
    outbox.claimOutbox = async (limit) => {
      calls.push('claim');
      return claimOutbox(limit);
    };
    outbox.markPublished = async (ids) => {
      if (failures-- > 0) {
        calls.push(`mark ${ids.length} failed`);
        throw new Error('database or disk is full');
      }
      calls.push(`mark ${ids.length}`);
      return markPublished(ids);
    };
    outbox.add(15);
    start(outbox, broker);
    await expect.poll(() => broker.pending.length).toBe(15);
    broker.ackAll();
    await expect.poll(() => outbox.published.length).toBe(15);
    expect(outbox.rows).toEqual([]);
    expect(outbox.released).toEqual([]);
    // Delivered rows are deleted, not left locked to go out again; no claim comes between.
    const failed = calls.indexOf('mark 10 failed');
    expect(failed).toBeGreaterThanOrEqual(0);
    const retried = calls.indexOf('mark 10', failed);
    expect(retried).toBeGreaterThan(failed);
    expect(calls.slice(failed, retried)).not.toContain('claim');
    outbox.add(3);
    await expect.poll(() => broker.pending.length).toBe(3);
    broker.ackAll();
    await expect.poll(() => outbox.published.length).toBe(18);
  });

  it('stop() returns after the batches in flight are marked published', async () => {
    const { outbox, broker, relay: r } = running(20);
    await expect.poll(() => broker.pending.length).toBe(20);
    let stopped = false;
    const stopping = r.stop(1_000).then(() => { stopped = true; });
    await sleep(30);
    expect(stopped).toBe(false);
    broker.ackAll();
    await stopping;
    expect(outbox.published.length).toBe(20);
  });
});

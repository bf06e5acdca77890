import type { EventBus } from '../observability/events.js';
import { WakeSignal } from '../lib/wake-signal.js';
import type { Logger } from '../observability/logger.js';
import type { Outbox } from '../store/roles.js';
import type { OutboxRow, TopicKind } from '../store/store.js';
import type { MqttConnection } from './mqtt-connection.js';

export interface OutboxRelayOptions {
  instanceId: string;
  batchSize: number;
  /** Batches published and not yet fully acknowledged at once (at least 1). */
  window: number;
  leaseMs: number;
  publishTimeoutMs: number;
  idlePollMs: number;
}

/**
 * Moves messages from the outbox table to the broker. A row is deleted only
 * after the broker's acknowledgement, so a crash between publish and delete
 * gives a redelivery with the same ingest_id, never a loss. RAM holds at most
 * `window` batches; the backlog lives in the database.
 *
 * The next batch goes out while earlier ones wait for their PUBACKs. Waiting
 * for a whole batch first capped the relay at ~2,100 messages/s on a default
 * Mosquitto: with Nagle's algorithm on the broker side (`set_tcp_nodelay false`)
 * the batch's last PUBACKs wait for a delayed TCP ACK (40 ms) that an idle
 * client connection never hurries; while publishes keep flowing, the ACKs ride
 * on them (bench/README.md, "outbox relay window").
 */
export class OutboxRelay {
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  private drainUntil = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** A publish or store write failed: the loop lets the other batches settle and backs off. */
  private failed = false;
  /** Acknowledged rows whose delete failed: deleted again before the next claim. */
  private unmarked: OutboxRow[] = [];

  constructor(
    private readonly store: Outbox,
    private readonly mqtt: MqttConnection,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  wake(): void {
    this.signal.wake();
  }

  /** Publishes what is left while the broker is reachable, for at most `flushMs`, then stops. */
  async stop(flushMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.drainUntil = Date.now() + flushMs;
    this.running = false;
    this.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const draining = !this.running;
        if (draining && (Date.now() >= this.drainUntil || !this.mqtt.connected)) return;
        if (this.failed) {
          await this.settle();
          this.failed = false;
          await this.signal.sleep(this.opts.idlePollMs);
          await this.markUnmarked();
          continue;
        }
        if (!this.mqtt.connected) {
          await this.mqtt.waitForConnect(this.opts.idlePollMs);
          continue;
        }
        if (this.inFlight.size >= Math.max(1, this.opts.window)) {
          await Promise.race(this.inFlight);
          continue;
        }
        let rows: OutboxRow[];
        try {
          rows = await this.store.claimOutbox(this.opts.batchSize, Date.now(), this.opts.instanceId, this.opts.leaseMs);
        } catch (err) {
          this.log.error({ err }, 'outbox relay failed; retrying');
          await this.signal.sleep(this.opts.idlePollMs);
          continue;
        }
        if (rows.length > 0) this.track(this.publishBatch(rows));
        // Caught up (a short batch or none): wait for a batch to finish before the next claim, or a
        // steady trickle would be claimed a few rows at a time, each claim and delete a writer transaction.
        if (rows.length < this.opts.batchSize && this.inFlight.size > 0) await Promise.race(this.inFlight);
        else if (rows.length === 0 && draining) return;
        else if (rows.length === 0) await this.signal.sleep(this.opts.idlePollMs);
      }
    } finally {
      // Published messages are marked (or released) before the store may close.
      await this.settle();
    }
  }

  private track(batch: Promise<void>): void {
    const tracked = batch.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Never rejects: a failure sets `failed`; rows not delivered are released (or left to their lease). */
  private async publishBatch(rows: OutboxRow[]): Promise<void> {
    const results = await Promise.allSettled(
      rows.map((r) => this.mqtt.publish(r.topic, r.payload, r.qos, r.retain, this.opts.publishTimeoutMs)),
    );
    const acked = rows.filter((_, i) => results[i]!.status === 'fulfilled');
    const failed = rows.filter((_, i) => results[i]!.status === 'rejected').map((r) => r.id);
    await this.mark(acked);
    if (failed.length === 0) return;
    this.failed = true;
    try {
      await this.store.releaseOutbox(failed);
      this.log.warn({ failed: failed.length }, 'publishing failed; messages stay in the outbox');
    } catch (err) {
      this.log.error({ err }, 'outbox relay failed; retrying');
    }
  }

  /**
   * Deletes delivered rows. When that fails (a full database rolls back the whole group commit, a
   * claim's with it) they are kept and deleted again before anything new is claimed: left to their
   * lease they would stay locked for 30 s and go out again, while claims ate the space the delete frees.
   */
  private async mark(acked: OutboxRow[]): Promise<void> {
    if (acked.length === 0) return;
    try {
      await this.store.markPublished(acked.map((r) => r.id), Date.now());
    } catch (err) {
      this.unmarked.push(...acked);
      this.failed = true;
      this.log.error({ err }, 'outbox relay failed; retrying');
      return;
    }
    const counts = new Map<TopicKind, number>();
    for (const r of acked) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    for (const [kind, count] of counts) {
      if (kind !== 'status') this.events.emit('published', { topicKind: kind, count });
    }
  }

  private async markUnmarked(): Promise<void> {
    const rows = this.unmarked;
    this.unmarked = [];
    await this.mark(rows);
  }
}

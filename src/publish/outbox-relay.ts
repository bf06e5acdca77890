import type { EventBus } from '../observability/events.js';
import { WakeSignal } from '../lib/wake-signal.js';
import type { Logger } from '../observability/logger.js';
import type { Outbox } from '../store/roles.js';
import type { TopicKind } from '../store/store.js';
import { withTimeout, type MqttConnection } from './mqtt-connection.js';

export interface OutboxRelayOptions {
  instanceId: string;
  batchSize: number;
  leaseMs: number;
  publishTimeoutMs: number;
  idlePollMs: number;
}

/**
 * Moves messages from the outbox table to the broker. A row is deleted only
 * after the broker's acknowledgement, so a crash between publish and delete
 * gives a redelivery with the same ingest_id, never a loss. RAM holds at most
 * one batch; the backlog lives in the database.
 */
export class OutboxRelay {
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  private drainUntil = 0;

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
    for (;;) {
      const draining = !this.running;
      if (draining && (Date.now() >= this.drainUntil || !this.mqtt.connected)) return;
      if (!this.mqtt.connected) {
        await this.mqtt.waitForConnect(this.opts.idlePollMs);
        continue;
      }
      let sent = 0;
      try {
        sent = await this.publishBatch();
      } catch (err) {
        this.log.error({ err }, 'outbox relay failed; retrying');
        await this.signal.sleep(this.opts.idlePollMs);
        continue;
      }
      if (sent === 0) {
        if (draining) return;
        await this.signal.sleep(this.opts.idlePollMs);
      }
    }
  }

  /** Returns how many rows were taken (0 = nothing to do or broker gone). */
  private async publishBatch(): Promise<number> {
    const rows = await this.store.claimOutbox(this.opts.batchSize, Date.now(), this.opts.instanceId, this.opts.leaseMs);
    if (rows.length === 0) return 0;
    const results = await Promise.allSettled(
      rows.map((r) => withTimeout(this.mqtt.publish(r.topic, r.payload, r.qos, r.retain), this.opts.publishTimeoutMs)),
    );
    const acked: number[] = [];
    const failed: number[] = [];
    const counts = new Map<TopicKind, number>();
    results.forEach((res, i) => {
      const row = rows[i]!;
      if (res.status === 'fulfilled') {
        acked.push(row.id);
        counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
      } else {
        failed.push(row.id);
      }
    });
    if (acked.length > 0) await this.store.markPublished(acked, Date.now());
    if (failed.length > 0) {
      await this.store.releaseOutbox(failed);
      this.log.warn({ failed: failed.length }, 'publishing failed; messages stay in the outbox');
    }
    for (const [kind, count] of counts) {
      if (kind !== 'status') this.events.emit('published', { topicKind: kind, count });
    }
    return failed.length > 0 ? 0 : rows.length;
  }

}

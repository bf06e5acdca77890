import { hash } from 'node:crypto';
import { uuid7 } from '../lib/uuid7.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { rawPayload } from '../publish/payloads.js';
import type { MeterKeyService } from '../security/meter-key-service.js';
import type { Topics } from '../publish/topics.js';
import type { TelegramIntake } from '../store/roles.js';
import type { BatchInsertResult, Depths, NewTelegram, OutboxMessage } from '../store/store.js';
import { mergeHash } from './merge-key.js';
import { meterAddress } from './meter-address.js';

export interface IngestInput {
  gatewayId: string;
  rxTime: string | undefined;
  rssiDbm: number | undefined;
  mode: string | undefined;
  /** Validated hex (any case). */
  rawHex: string;
  meterHint: { meter_id?: string | undefined; manufacturer?: string | undefined } | undefined;
  keyHex: string | undefined;
}

export interface IngestOptions {
  dedupWindowMs: number | null;
  queueMax: number;
  outboxMax: number;
  qos: 0 | 1 | 2;
  /** How often the cached queue/outbox depth is re-read from the database. */
  depthRefreshMs: number;
  /** How long a batch client_id is remembered (24 h). */
  clientIdTtlMs: number;
  /** DEDUP_SCOPE=global: MERGE_WINDOW_MS; null = one job per gateway's telegram. */
  mergeWindowMs?: number | null;
}

/**
 * The merged job runs this long after the window closes: a reception stamped just inside the
 * window may commit a moment later, and the job should still list it.
 */
export const MERGE_GRACE_MS = 250;

export type AcceptResult = { ingestId: string; duplicate: boolean; mergedInto?: string };

export interface BatchIngestInput extends IngestInput {
  /** Gateway-chosen id that makes a retried upload idempotent. */
  clientId?: string | undefined;
}

export type BatchAcceptResult = BatchInsertResult;

/**
 * Accepts a telegram: one local transaction (telegram + raw message), no
 * network call, so the 202 comes in well under a millisecond of work.
 * Backpressure reads cached depths (refreshed in the background and bumped
 * on every accept) instead of counting rows per request.
 */
export class IngestService {
  private depths: Depths = { queue: 0, outbox: 0, oldestOutboxAt: null };
  /** Inserts on their way to the writer: they count against the limits before they land. */
  private pending = 0;
  private storageFullAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: TelegramIntake,
    private readonly topics: Topics,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: IngestOptions,
    private readonly keys: MeterKeyService,
    private readonly onAccepted: () => void,
  ) {}

  async start(): Promise<void> {
    await this.store.prepareIntake(this.opts.dedupWindowMs);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.depthRefreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get currentDepths(): Depths {
    return this.depths;
  }

  /** An insert failed on a full database within the last `windowMs`: not ready, whatever a small probe write says. */
  storageFullRecently(windowMs = 5_000, now = Date.now()): boolean {
    return now - this.storageFullAt < windowMs;
  }

  /** Which limit is reached, if any. */
  full(): 'queue' | 'outbox' | null {
    if (this.depths.queue + this.pending >= this.opts.queueMax) return 'queue';
    if (this.depths.outbox + this.pending >= this.opts.outboxMax) return 'outbox';
    return null;
  }

  async accept(input: IngestInput): Promise<AcceptResult> {
    const started = performance.now();
    const { telegram, raw } = this.prepare(input);
    this.pending++;
    const result = await this.store.insertTelegram(telegram, raw, this.opts.dedupWindowMs)
      .catch((err: unknown) => this.noteFailure(err))
      .finally(() => this.pending--);
    if (result.duplicate) {
      this.events.emit('duplicate', { ingestId: result.ingestId, gatewayId: telegram.gatewayId });
      return result;
    }
    this.landed(1);
    this.clockSample(input.gatewayId, input.rxTime, telegram.createdAt);
    this.events.emit('accepted', { ingestId: result.ingestId, gatewayId: telegram.gatewayId, durationMs: performance.now() - started });
    this.events.emit('gatewayTelegrams', { gatewayId: telegram.gatewayId, count: 1 });
    return result;
  }

  /**
   * Accepts many telegrams in one transaction (batch upload, MQTT ingress). Results in input order;
   * an item whose client_id was seen within CLIENT_ID_TTL gets the first answer and writes nothing.
   */
  async acceptBatch(inputs: BatchIngestInput[]): Promise<BatchAcceptResult[]> {
    if (inputs.length === 0) return [];
    const items = inputs.map((input) => ({ ...this.prepare(input), clientId: input.clientId ?? null }));
    this.pending += items.length;
    const results = await this.store.insertTelegrams(items, this.opts.dedupWindowMs, this.opts.clientIdTtlMs)
      .catch((err: unknown) => this.noteFailure(err))
      .finally(() => {
        this.pending -= items.length;
      });
    let created = 0;
    const perGateway = new Map<string, number>();
    results.forEach((r, i) => {
      if (r.repeated) return;
      const gatewayId = items[i]!.telegram.gatewayId;
      if (r.duplicate) this.events.emit('duplicate', { ingestId: r.ingestId, gatewayId });
      else {
        created++;
        perGateway.set(gatewayId, (perGateway.get(gatewayId) ?? 0) + 1);
        this.clockSample(gatewayId, inputs[i]!.rxTime, items[i]!.telegram.createdAt);
      }
    });
    for (const [gatewayId, count] of perGateway) this.events.emit('gatewayTelegrams', { gatewayId, count });
    if (created > 0) this.landed(created);
    return results;
  }

  private prepare(input: IngestInput): { telegram: NewTelegram; raw: OutboxMessage } {
    const rawHex = input.rawHex.toLowerCase();
    const header = meterAddress(rawHex);
    const job = {
      ingestId: uuid7(),
      gatewayId: input.gatewayId,
      rxTime: input.rxTime ?? new Date().toISOString(),
      rssiDbm: input.rssiDbm ?? null,
      mode: input.mode ?? null,
      rawHex,
      meterId: input.meterHint?.meter_id ?? header?.meterId ?? null,
      manufacturer: input.meterHint?.manufacturer?.toUpperCase() ?? header?.manufacturer ?? null,
      replay: false,
    };
    const raw: OutboxMessage = {
      ingestId: job.ingestId, kind: 'raw', topic: this.topics.raw(job.gatewayId, job.ingestId),
      payload: JSON.stringify(rawPayload(job)), qos: this.opts.qos, retain: false,
    };
    const telegram: NewTelegram = {
      ingestId: job.ingestId, gatewayId: job.gatewayId, rxTime: job.rxTime, rssiDbm: job.rssiDbm, mode: job.mode, rawHex,
      meterId: job.meterId, manufacturer: job.manufacturer,
      dedupHash: dedupHash(job.gatewayId, rawHex),
      keyHex: input.keyHex ? this.keys.sealInline(job.ingestId, input.keyHex) : null,
      createdAt: Date.now(),
    };
    const windowMs = this.opts.mergeWindowMs;
    if (windowMs != null) {
      telegram.merge = { hash: mergeHash(rawHex), until: telegram.createdAt + windowMs, dueAt: telegram.createdAt + windowMs + MERGE_GRACE_MS };
    }
    return { telegram, raw };
  }

  private clockSample(gatewayId: string, rxTime: string | undefined, now: number): void {
    if (rxTime !== undefined) this.events.emit('gatewayClock', { gatewayId, driftMs: Date.parse(rxTime) - now });
  }

  private noteFailure(err: unknown): never {
    if ((err as { code?: unknown }).code === 'storage_full') this.storageFullAt = Date.now();
    throw err;
  }

  /** New rows count against the limits at once, before the next background refresh. */
  private landed(n: number): void {
    this.depths = { ...this.depths, queue: this.depths.queue + n, outbox: this.depths.outbox + n };
    this.onAccepted();
  }

  private async refresh(): Promise<void> {
    try {
      this.depths = await this.store.depths();
    } catch (err) {
      this.log.error({ err }, 'reading queue depth failed');
    }
  }
}

/**
 * sha256(gateway_id + "\n" + raw_hex), hex; raw_hex lower-case so case does not defeat dedup. The
 * newline (never in a gateway id) keeps "gw" + "ab12…" apart from "gwab" + "12…": without it (before
 * 2026-12-03) those were one hash, and the second gateway's telegram was answered as a repeat.
 */
export function dedupHash(gatewayId: string, rawHex: string): string {
  // One-shot hash(): no Hash object per telegram.
  return hash('sha256', `${gatewayId}\n${rawHex.toLowerCase()}`, 'hex');
}

import { createHash } from 'node:crypto';
import { uuid7 } from '../lib/uuid7.js';
import type { EventBus } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import { rawPayload } from '../publish/payloads.js';
import type { MeterKeyService } from '../security/meter-key-service.js';
import type { Topics } from '../publish/topics.js';
import type { Depths, TelegramStore } from '../store/store.js';
import { parseHeader } from '../wmbus/index.js';

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
}

export type AcceptResult = { ingestId: string; duplicate: boolean };

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
    private readonly store: TelegramStore,
    private readonly topics: Topics,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly opts: IngestOptions,
    private readonly keys: MeterKeyService,
    private readonly onAccepted: () => void,
  ) {}

  async start(): Promise<void> {
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
    const rawHex = input.rawHex.toLowerCase();
    const header = safeHeader(rawHex);
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
    const raw = {
      ingestId: job.ingestId, kind: 'raw' as const, topic: this.topics.raw(job.gatewayId, job.ingestId),
      payload: JSON.stringify(rawPayload(job)), qos: this.opts.qos, retain: false,
    };
    this.pending++;
    const result = await this.store.insertTelegram(
      {
        ...job,
        dedupHash: dedupHash(job.gatewayId, rawHex),
        keyHex: input.keyHex ? this.keys.sealInline(job.ingestId, input.keyHex) : null,
        createdAt: Date.now(),
      },
      raw,
      this.opts.dedupWindowMs,
    ).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 'storage_full') this.storageFullAt = Date.now();
      throw err;
    }).finally(() => this.pending--);
    if (result.duplicate) {
      this.events.emit('duplicate', { ingestId: result.ingestId, gatewayId: job.gatewayId });
      return result;
    }
    this.depths = { ...this.depths, queue: this.depths.queue + 1, outbox: this.depths.outbox + 1 };
    this.onAccepted();
    this.events.emit('accepted', { ingestId: result.ingestId, gatewayId: job.gatewayId, durationMs: performance.now() - started });
    return result;
  }

  private async refresh(): Promise<void> {
    try {
      this.depths = await this.store.depths();
    } catch (err) {
      this.log.error({ err }, 'reading queue depth failed');
    }
  }
}

/** sha256(gateway_id + raw_hex), hex; raw_hex lower-case so case does not defeat dedup. */
export function dedupHash(gatewayId: string, rawHex: string): string {
  return createHash('sha256').update(gatewayId).update(rawHex.toLowerCase()).digest('hex');
}

function safeHeader(rawHex: string): ReturnType<typeof parseHeader> | null {
  try {
    return parseHeader(rawHex);
  } catch {
    return null;
  }
}

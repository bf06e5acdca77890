/** Per-meter liveness, computed the same way on both stores (pure; the stores only load and save it). */

export type MeterStatus = 'ok' | 'stale' | 'key_problem';

/** Gaps kept per meter; the learned interval is their median, so one missed telegram does not double it. */
export const GAPS_KEPT = 9;
/** Gateways remembered per meter (the most recent ones). */
export const METER_GATEWAYS_MAX = 8;
/**
 * Two receptions closer than this are one transmission heard twice (several gateways,
 * a retry of the same job) and teach no interval.
 */
export const SAME_TRANSMISSION_MS = 2_000;

export interface MeterGateway {
  gatewayId: string;
  rssiDbm: number | null;
  /** Epoch ms. */
  at: number;
}

export interface MeterLiveness {
  meterId: string;
  manufacturer: string | null;
  status: MeterStatus;
  firstSeen: number;
  lastSeen: number;
  /** Learned send interval (median of recent gaps), ms; null until two transmissions were seen. */
  intervalMs: number | null;
  /** Recent gaps between transmissions, ms, oldest first. */
  gaps: number[];
  /** Most recent first. */
  gateways: MeterGateway[];
  lastErrorCode: string | null;
  lastError: string | null;
  /** Epoch ms from which the meter counts as stale if nothing arrives. */
  staleAt: number;
}

export interface MeterSeen {
  meterId: string;
  manufacturer: string | null;
  gatewayId: string;
  rssiDbm: number | null;
  /** When the telegram was received, epoch ms. */
  at: number;
  /** Error code of the telegram's outcome; null when it was read. */
  errorCode: string | null;
  error: string | null;
  /** The telegram's ingest id, for the `meter_back` event it may bring. */
  ingestId: string;
}

/** What one reception changed: the meter came back from stale, its learned interval, whether it is the newest heard. */
export interface SeenResult {
  back: boolean;
  intervalMs: number | null;
  /** Received no earlier than anything heard from the meter before: its values may replace retained state. */
  latest: boolean;
  /** The same through this gateway alone (its per-gateway reading topic). */
  latestForGateway: boolean;
  /** The meter had no record (first heard, or deleted since): its Home Assistant config must go out. */
  first: boolean;
}

export interface StalePolicy {
  /** METER_STALE_INTERVALS. */
  intervals: number;
  /** METER_STALE_MIN_S in ms. */
  minMs: number;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/** Silence allowed before `stale`: the policy's intervals of the learned interval, never less than its minimum. */
export function staleAfterMs(intervalMs: number | null, p: StalePolicy): number {
  return Math.max(p.minMs, intervalMs === null ? 0 : Math.round(intervalMs * p.intervals));
}

/** Decrypt failures are a key problem the operator can fix; other parse failures are not about the key. */
export function statusOf(errorCode: string | null): MeterStatus {
  return errorCode?.startsWith('decrypt_') ? 'key_problem' : 'ok';
}

/** Where a reception at `at` through `gatewayId` stands against what the meter's record already holds. */
export function orderOf(prev: MeterLiveness | undefined, at: number, gatewayId: string): Pick<SeenResult, 'latest' | 'latestForGateway' | 'first'> {
  const known = prev?.gateways.find((g) => g.gatewayId === gatewayId);
  return {
    latest: prev === undefined || at >= prev.lastSeen,
    latestForGateway: known === undefined || at >= known.at,
    // This telegram created the record if it is the only one in it: a retry after its outcome failed to commit is still first.
    first: prev === undefined || (prev.firstSeen === at && prev.lastSeen === at),
  };
}

/**
 * The meter's state after one more reception. A late one (received before the newest already heard: a
 * gateway's backlog) teaches no interval, changes neither the status nor the last error, and does not bring
 * a stale meter back: the meter said nothing new.
 */
export function applySeen(prev: MeterLiveness | undefined, s: MeterSeen, p: StalePolicy): SeenResult & { next: MeterLiveness } {
  const gaps = [...(prev?.gaps ?? [])];
  const gap = prev ? s.at - prev.lastSeen : 0;
  if (prev && gap >= SAME_TRANSMISSION_MS) {
    gaps.push(gap);
    if (gaps.length > GAPS_KEPT) gaps.splice(0, gaps.length - GAPS_KEPT);
  }
  const intervalMs = median(gaps);
  const lastSeen = Math.max(prev?.lastSeen ?? s.at, s.at);
  const order = orderOf(prev, s.at, s.gatewayId);
  const { latest, latestForGateway } = order;
  const gateways = latestForGateway
    ? [{ gatewayId: s.gatewayId, rssiDbm: s.rssiDbm, at: s.at }, ...(prev?.gateways ?? []).filter((g) => g.gatewayId !== s.gatewayId)]
      .sort((a, b) => b.at - a.at).slice(0, METER_GATEWAYS_MAX)
    : prev!.gateways;
  const next: MeterLiveness = {
    meterId: s.meterId,
    manufacturer: s.manufacturer ?? prev?.manufacturer ?? null,
    status: latest || !prev ? statusOf(s.errorCode) : prev.status,
    firstSeen: Math.min(prev?.firstSeen ?? s.at, s.at),
    lastSeen,
    intervalMs,
    gaps,
    gateways,
    lastErrorCode: latest ? s.errorCode ?? prev?.lastErrorCode ?? null : prev!.lastErrorCode,
    lastError: latest ? s.error ?? prev?.lastError ?? null : prev!.lastError,
    staleAt: lastSeen + staleAfterMs(intervalMs, p),
  };
  return { next, back: latest && prev?.status === 'stale', ...order, intervalMs };
}

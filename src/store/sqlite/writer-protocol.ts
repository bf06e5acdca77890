import type { MessagePort } from 'node:worker_threads';
import type { TelegramStore } from '../store.js';

/** Store methods that run on the connection they are called on in every mode. */
type Lifecycle = 'start' | 'stop' | 'onWorkAvailable' | 'shareWithThread' | 'onRelink' | 'relink';
export type StoreMethod = Exclude<keyof TelegramStore, Lifecycle>;

/**
 * Where each store method runs when a writer thread owns the SQLite file:
 * `write` goes to the writer thread, `read` runs on the caller's own WAL reader
 * connection. A Record, so a new store method does not compile until it is
 * classified: a write on a reader would wait in SQLite's busy handler and
 * block the caller's event loop, which is what the writer thread exists to avoid.
 */
export const METHOD_PLACE: Readonly<Record<StoreMethod, 'read' | 'write'>> = Object.freeze({
  ping: 'read',
  insertTelegram: 'write',
  insertTelegrams: 'write',
  prepareIntake: 'write',
  claimJobs: 'write',
  renewLeases: 'write',
  retryJob: 'write',
  finishJob: 'write',
  nextDueAt: 'read',
  depths: 'read',
  getTelegram: 'read',
  listReceptions: 'read',
  getMeterKey: 'read',
  putMeterKey: 'write',
  claimOutbox: 'write',
  markPublished: 'write',
  releaseOutbox: 'write',
  purgeDedup: 'write',
  purgeFinished: 'write',
  listMeterKeys: 'read',
  getMeterKeyRecord: 'read',
  deleteMeterKey: 'write',
  recordKeyProblem: 'write',
  pruneKeyProblems: 'write',
  listKeyProblems: 'read',
  countKeyProblems: 'read',
  getActiveMapping: 'read',
  listMappingVersions: 'read',
  putMapping: 'write',
  activateMapping: 'write',
  listTelegrams: 'read',
  replayTelegrams: 'write',
  insertAudit: 'write',
  listAudit: 'read',
  gatewayStats: 'read',
  getSetting: 'read',
  putSetting: 'write',
  getParserState: 'read',
  raiseParserState: 'write',
  closeCircuit: 'write',
  recordMeterSeen: 'write',
  markStaleMeters: 'write',
  listMeters: 'read',
  latestReadings: 'read',
  matchMeters: 'read',
  listReadings: 'read',
  countMetersByStatus: 'read',
  getMeter: 'read',
  deleteMeter: 'write',
  enqueueMessages: 'write',
  checkGateways: 'write',
  listGateways: 'read',
});

/** A call of a store method, from any thread to the writer thread. */
export interface WriterRequest {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

/** An error as it crosses a thread boundary: structured clone keeps neither class nor own properties like `code`. */
export interface WireError {
  name: string;
  code: string;
  message: string;
  retryable: boolean;
}

export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** Control messages between the thread that owns the writer and the writer thread. */
export type ToWriter = { t: 'attach'; port: MessagePort } | { t: 'stop' };
export type FromWriter = { t: 'ready' } | { t: 'failed'; error: WireError } | { t: 'stopped' } | { t: 'error'; message: string };

export function toWireError(err: unknown): WireError {
  const e = err as { name?: string; code?: unknown; message?: string; retryable?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'store_failed';
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    code,
    message: typeof e.message === 'string' ? e.message : String(err),
    // SQLITE_BUSY and friends pass when the lock is free again; a full disk when space returns.
    retryable: e.retryable === true || /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(code),
  };
}

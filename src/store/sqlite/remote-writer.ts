import type { MessagePort } from 'node:worker_threads';
import { storeCodeOf, toErrorCode } from '../../lib/error-codes.js';
import { BridgeError } from '../../lib/errors.js';
import { MessageBatch } from '../../lib/message-batch.js';
import type { StoreMethod, WireError, WriterReply, WriterRequest } from './writer-protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The client end of a port to the writer thread: call(method, args) → the
 * method's result or its error, rebuilt with the same `code`. When the writer
 * is gone (restart, shutdown), calls in flight fail with the retryable
 * `store_unavailable`, and a new port can be put in with relink().
 */
export class RemoteWriter {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private port: MessagePort | undefined;
  private outgoing: MessageBatch<WriterRequest> | undefined;

  constructor(port: MessagePort) {
    this.relink(port);
  }

  relink(port: MessagePort): void {
    this.close();
    this.port = port;
    this.outgoing = new MessageBatch((reqs) => port.postMessage(reqs));
    port.on('message', (replies: WriterReply[]) => {
      for (const r of replies) this.onReply(r);
    });
    port.on('close', () => {
      // The writer is gone: later calls fail at once (a 503) instead of waiting on a dead port until a relink.
      if (this.port === port) this.close();
    });
  }

  call(method: StoreMethod, args: unknown[]): Promise<unknown> {
    const outgoing = this.outgoing;
    if (!outgoing) return Promise.reject(unavailable());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      outgoing.push({ id, method, args });
    });
  }

  /** Fails what is in flight and drops the port. */
  close(): void {
    const port = this.port;
    this.port = undefined;
    this.outgoing = undefined;
    port?.close();
    this.failAll();
  }

  private failAll(): void {
    for (const p of this.pending.values()) p.reject(unavailable());
    this.pending.clear();
  }

  private onReply(r: WriterReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(fromWire(r.error));
  }
}

function unavailable(): BridgeError {
  return new BridgeError('store_unavailable', 'the SQLite writer thread is not running', { retryable: true });
}

function fromWire(e: WireError): BridgeError {
  const code = toErrorCode(e.code, storeCodeOf(e.code));
  // The driver's own code (SQLITE_BUSY, …) stays visible for logs; callers branch on the stable one.
  const err = new BridgeError(code, e.message, { retryable: e.retryable, ...(code === e.code ? {} : { details: { driverCode: e.code } }) });
  err.name = e.name;
  return err;
}

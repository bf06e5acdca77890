import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MessageBatch } from '../../lib/message-batch.js';
import { SqliteStore } from './sqlite-store.js';
import { type FromWriter, METHOD_PLACE, type StoreMethod, type ToWriter, toWireError, type WriterReply, type WriterRequest } from './writer-protocol.js';

/**
 * Entry of the SQLite writer thread: the one connection that writes. Requests
 * come from any number of ports (the HTTP thread's, the pipeline thread's);
 * writes that arrive in one turn share a commit (the store's group commit), so
 * ingest inserts, job results and outbox deletes from both sides are batched
 * together and no other thread ever waits in SQLite's busy handler.
 */
async function run(): Promise<void> {
  const control = parentPort;
  if (!control) throw new Error('writer-thread must run in a worker thread');
  const { path, recover, maxSizeMb } = workerData as { path: string; recover: boolean; maxSizeMb: number | undefined };
  const send = (m: FromWriter): void => control.postMessage(m);
  const store = new SqliteStore(path, { mode: 'writer', recover, maxSizeMb });
  store.onBackgroundError = (message) => send({ t: 'error', message });
  const ports = new Set<MessagePort>();

  const serve = (port: MessagePort): void => {
    ports.add(port);
    const replies = new MessageBatch<WriterReply>((list) => port.postMessage(list), 'microtask');
    port.on('message', (reqs: WriterRequest[]) => {
      for (const req of reqs) void answer(store, replies, req);
    });
    port.on('close', () => ports.delete(port));
  };

  control.on('message', (m: ToWriter) => {
    if (m.t === 'attach') serve(m.port);
    else if (m.t === 'stop') {
      void (async () => {
        for (const p of ports) p.close();
        await store.stop();
        send({ t: 'stopped' });
        control.close();
      })();
    }
  });

  try {
    await store.start();
    send({ t: 'ready' });
  } catch (err) {
    send({ t: 'failed', error: toWireError(err) });
    await store.stop().catch(() => undefined);
    control.close();
  }
}

async function answer(store: SqliteStore, replies: MessageBatch<WriterReply>, req: WriterRequest): Promise<void> {
  let reply: WriterReply;
  try {
    if (METHOD_PLACE[req.method] !== 'write') throw new Error(`${req.method} is not a write`);
    const fn = store[req.method as StoreMethod] as (...args: unknown[]) => Promise<unknown>;
    reply = { id: req.id, ok: true, value: await fn.apply(store, req.args) };
  } catch (err) {
    reply = { id: req.id, ok: false, error: toWireError(err) };
  }
  replies.push(reply);
}

void run();

// Baseline for bench/ingest.ts: a bare Fastify route with the bridge's URL and
// answer shape (JSON body parsed, 202 + {accepted, ingest_id}), nothing else —
// no auth, no validation, no database. Plain JavaScript so it runs on `node`
// without a loader, like the compiled bridge.
// Usage: node bench/lib/baseline-server.mjs <port>
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

app.post('/v1/telegrams', async (_req, reply) => reply.code(202).send({ accepted: true, ingest_id: randomUUID() }));
app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`listening ${port}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

/**
 * An in-process broker reachable as wss://127.0.0.1:<wssPort>/mqtt (TLS with
 * the given server certificate) and as plain mqtt://127.0.0.1:<tcpPort> for
 * the test's subscriber. Mosquitto on this machine is built without WebSockets.
 */
export class WssBroker {
  wssPort = 0;
  tcpPort = 0;
  private broker: Aedes | undefined;
  private https: HttpsServer | undefined;
  private wss: WebSocketServer | undefined;
  private tcp: TcpServer | undefined;

  constructor(private readonly certFile: string, private readonly keyFile: string) {}

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    this.broker = broker;
    this.https = createHttpsServer({ cert: readFileSync(this.certFile), key: readFileSync(this.keyFile) });
    this.wss = new WebSocketServer({ server: this.https, path: '/mqtt' });
    this.wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket)));
    this.tcp = createTcpServer(broker.handle);
    this.wssPort = await listen(this.https);
    this.tcpPort = await listen(this.tcp);
  }

  async stop(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    if (this.broker) await new Promise<void>((resolve) => this.broker!.close(() => resolve()));
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.https ? this.https.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
  }
}

function listen(server: HttpsServer | TcpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

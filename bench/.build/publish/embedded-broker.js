import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { BridgeError } from '../lib/errors.js';
/**
 * In-process MQTT broker (aedes) for the embedded default: `npm start` works
 * without a Mosquitto. Listens on 127.0.0.1 only.
 */
export class EmbeddedBroker {
    port;
    broker;
    server;
    constructor(port) {
        this.port = port;
    }
    /** The port actually bound (useful with port 0 in tests). */
    boundPort = 0;
    async start() {
        const broker = await Aedes.createBroker();
        const server = createServer(broker.handle);
        try {
            await new Promise((resolve, reject) => {
                server.once('error', reject);
                server.listen(this.port, '127.0.0.1', () => {
                    server.off('error', reject);
                    resolve();
                });
            });
        }
        catch (err) {
            await new Promise((resolve) => broker.close(() => resolve()));
            if (err.code === 'EADDRINUSE') {
                throw new BridgeError('embedded_broker_port_in_use', `port 127.0.0.1:${this.port} is taken (another MQTT broker such as Mosquitto?). ` +
                    `Either set MQTT_URL=mqtt://127.0.0.1:${this.port} to use that broker, or set EMBEDDED_MQTT_PORT to a free port for the embedded one.`);
            }
            throw err;
        }
        const addr = server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : this.port;
        this.broker = broker;
        this.server = server;
    }
    get url() {
        return `mqtt://127.0.0.1:${this.boundPort}`;
    }
    async stop() {
        const { server, broker } = this;
        this.server = undefined;
        this.broker = undefined;
        // Closing the broker first ends its client connections, so server.close() can finish.
        if (broker)
            await new Promise((resolve) => broker.close(() => resolve()));
        if (server)
            await new Promise((resolve) => server.close(() => resolve()));
    }
}

import mqtt from 'mqtt';
/**
 * One persistent MQTT.js connection. Publishes the retained bridge status
 * `online` on every connect, with last will `offline` (zigbee2mqtt
 * convention). Reconnects with doubling delay. Never queues messages in RAM
 * while offline: callers check `connected` and keep the backlog in the outbox.
 */
export class MqttConnection {
    opts;
    events;
    log;
    client;
    delay;
    connectWaiters = new Set();
    constructor(opts, events, log) {
        this.opts = opts;
        this.events = events;
        this.log = log;
        this.delay = opts.reconnectMinMs ?? 500;
    }
    get connected() {
        return this.client?.connected === true;
    }
    start() {
        if (this.client)
            return;
        const min = this.opts.reconnectMinMs ?? 500;
        const max = this.opts.reconnectMaxMs ?? 30_000;
        const client = mqtt.connect(this.opts.url, {
            clientId: this.opts.clientId,
            username: this.opts.username,
            password: this.opts.password,
            clean: true,
            connectTimeout: 5_000,
            reconnectPeriod: min,
            keepalive: 30,
            queueQoSZero: false,
            will: { topic: this.opts.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
        });
        client.on('connect', () => {
            this.delay = min;
            client.options.reconnectPeriod = min;
            this.log.info({ clientId: this.opts.clientId }, 'MQTT connected');
            client.publish(this.opts.statusTopic, 'online', { qos: 1, retain: true }, (err) => {
                if (err)
                    this.log.warn({ err: err.message }, 'publishing bridge status failed');
            });
            this.events.emit('mqttConnection', { connected: true });
            for (const w of this.connectWaiters)
                w();
            this.connectWaiters.clear();
        });
        client.on('close', () => {
            if (client.options.reconnectPeriod !== 0) {
                this.delay = Math.min(max, this.delay * 2);
                client.options.reconnectPeriod = this.delay;
            }
            this.events.emit('mqttConnection', { connected: false });
        });
        client.on('offline', () => this.log.warn({ retryInMs: this.delay }, 'MQTT broker unreachable; messages wait in the outbox'));
        client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
        this.client = client;
    }
    /** Resolves on the next connect, or after `ms`. */
    waitForConnect(ms) {
        if (this.connected)
            return Promise.resolve();
        return new Promise((resolve) => {
            const done = () => {
                clearTimeout(timer);
                this.connectWaiters.delete(done);
                resolve();
            };
            const timer = setTimeout(done, ms);
            this.connectWaiters.add(done);
        });
    }
    /** Resolves when the broker acknowledged the message (QoS ≥ 1) or it was written (QoS 0). */
    async publish(topic, payload, qos, retain) {
        const client = this.client;
        if (!client?.connected)
            throw new Error('MQTT not connected');
        await client.publishAsync(topic, payload, { qos, retain });
    }
    /** Publishes the retained `offline` status (a clean stop does not fire the will), then disconnects. */
    async stop() {
        const client = this.client;
        if (!client)
            return;
        this.client = undefined;
        client.options.reconnectPeriod = 0;
        if (client.connected) {
            try {
                await withTimeout(client.publishAsync(this.opts.statusTopic, 'offline', { qos: 1, retain: true }), 2_000);
            }
            catch (err) {
                this.log.warn({ err: err.message }, 'could not publish offline status');
            }
        }
        await withTimeout(client.endAsync(false), 3_000).catch(() => client.end(true));
        for (const w of this.connectWaiters)
            w();
    }
}
export function withTimeout(p, ms) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

import { EventEmitter } from 'node:events';
/**
 * A small typed event bus. Every listener is wrapped so one failing subscriber
 * never breaks the emitter (zigbee2mqtt lib/eventBus.ts).
 */
export class EventBus {
    log;
    emitter = new EventEmitter();
    constructor(log) {
        this.log = log;
        this.emitter.setMaxListeners(100);
    }
    on(event, listener) {
        const wrapped = (payload) => {
            try {
                listener(payload);
            }
            catch (err) {
                this.log.error({ err, event }, 'event listener failed');
            }
        };
        this.emitter.on(event, wrapped);
        return () => this.emitter.off(event, wrapped);
    }
    emit(event, payload) {
        this.emitter.emit(event, payload);
    }
    removeAll() {
        this.emitter.removeAllListeners();
    }
}

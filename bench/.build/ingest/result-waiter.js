/** Lets `?sync=true` wait, bounded, for the payload a job published. */
export class ResultWaiter {
    store;
    waiting = new Map();
    constructor(events, store) {
        this.store = store;
        events.on('jobFinished', ({ ingestId, payload }) => {
            const set = this.waiting.get(ingestId);
            if (!set)
                return;
            this.waiting.delete(ingestId);
            for (const resolve of set)
                resolve(payload);
        });
    }
    /** The final payload, or undefined after `timeoutMs`. */
    async wait(ingestId, timeoutMs) {
        const settled = new Promise((resolve) => {
            const set = this.waiting.get(ingestId) ?? new Set();
            const done = (p) => {
                clearTimeout(timer);
                set.delete(done);
                if (set.size === 0 && this.waiting.get(ingestId) === set)
                    this.waiting.delete(ingestId);
                resolve(p);
            };
            const timer = setTimeout(() => done(undefined), timeoutMs);
            set.add(done);
            this.waiting.set(ingestId, set);
        });
        // A duplicate may already be final: answer from the database.
        const existing = await this.store.getTelegram(ingestId);
        if (existing && (existing.status === 'done' || existing.status === 'error') && existing.parsed) {
            const set = this.waiting.get(ingestId);
            if (set)
                for (const resolve of [...set])
                    resolve(existing.parsed);
        }
        return settled;
    }
}

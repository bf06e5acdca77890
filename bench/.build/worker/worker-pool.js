/**
 * In-memory dispatcher over the durable queue: claims runnable jobs from the
 * database and keeps up to `concurrency` of them in flight. The database stays
 * the source of truth; this only decides when to look.
 */
export class WorkerPool {
    store;
    processor;
    log;
    opts;
    inFlight = new Map();
    running = false;
    loopDone;
    wakeUp;
    pendingWake = false;
    renewTimer;
    constructor(store, processor, log, opts) {
        this.store = store;
        this.processor = processor;
        this.log = log;
        this.opts = opts;
    }
    get busy() {
        return this.inFlight.size;
    }
    start() {
        if (this.running)
            return;
        this.running = true;
        this.loopDone = this.loop();
        this.renewTimer = setInterval(() => void this.renew(), Math.max(1_000, this.opts.leaseMs / 3));
        this.renewTimer.unref();
    }
    /** New work may be runnable (a telegram was accepted, a job finished). */
    wake() {
        if (this.wakeUp) {
            const w = this.wakeUp;
            this.wakeUp = undefined;
            w();
        }
        else {
            this.pendingWake = true;
        }
    }
    /** Stops claiming, waits up to `drainMs` for jobs in flight; unfinished ones stay leased and are picked up on the next start. */
    async stop(drainMs = 10_000) {
        if (!this.running)
            return;
        this.running = false;
        this.wake();
        await this.loopDone;
        if (this.renewTimer)
            clearInterval(this.renewTimer);
        let timer;
        const timeout = new Promise((resolve) => {
            timer = setTimeout(resolve, drainMs);
        });
        await Promise.race([Promise.allSettled([...this.inFlight.values()]), timeout]);
        clearTimeout(timer);
        if (this.inFlight.size > 0)
            this.log.warn({ unfinished: this.inFlight.size }, 'jobs still in flight at shutdown; they will run again on restart');
    }
    async loop() {
        while (this.running) {
            let claimed = 0;
            const free = this.opts.concurrency - this.inFlight.size;
            if (free > 0) {
                try {
                    const jobs = await this.store.claimJobs(free, Date.now(), this.opts.instanceId, this.opts.leaseMs);
                    claimed = jobs.length;
                    for (const job of jobs)
                        this.run(job);
                }
                catch (err) {
                    this.log.error({ err }, 'claiming jobs failed');
                }
                if (claimed === free)
                    continue;
            }
            await this.sleep(await this.idleDelay(free > 0 && claimed === 0));
        }
    }
    async idleDelay(queueEmpty) {
        if (!queueEmpty)
            return this.opts.idlePollMs;
        try {
            const due = await this.store.nextDueAt();
            if (due !== null)
                return Math.max(5, Math.min(this.opts.idlePollMs, due - Date.now()));
        }
        catch (err) {
            this.log.error({ err }, 'reading the queue failed');
        }
        return this.opts.idlePollMs;
    }
    run(job) {
        const p = this.processor
            .process(job)
            .catch((err) => this.log.error({ ingestId: job.ingestId, err }, 'job could not be recorded; it runs again after its lease'))
            .finally(() => {
            this.inFlight.delete(job.ingestId);
            this.wake();
        });
        this.inFlight.set(job.ingestId, p);
    }
    sleep(ms) {
        if (this.pendingWake || !this.running) {
            this.pendingWake = false;
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.wakeUp = undefined;
                resolve();
            }, ms);
            this.wakeUp = () => {
                clearTimeout(timer);
                resolve();
            };
        });
    }
    async renew() {
        if (this.inFlight.size === 0)
            return;
        try {
            await this.store.renewLeases([...this.inFlight.keys()], this.opts.instanceId, Date.now() + this.opts.leaseMs);
        }
        catch (err) {
            this.log.error({ err }, 'renewing job leases failed');
        }
    }
}

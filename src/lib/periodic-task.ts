import { WakeSignal } from './wake-signal.js';

/**
 * Runs `tick` at start and then every `intervalMs()` until stopped. A failed tick is handed
 * to `onError` and tried again at the next interval, so a database hiccup never ends the loop.
 */
export class PeriodicTask {
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly signal = new WakeSignal();

  constructor(
    private readonly tick: () => Promise<unknown>,
    private readonly intervalMs: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.signal.wake();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
      } catch (err) {
        this.onError(err);
      }
      await this.signal.sleep(this.intervalMs());
    }
  }
}

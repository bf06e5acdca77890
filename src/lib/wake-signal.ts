/**
 * Lets a polling loop sleep until either its timeout or a wake() from
 * elsewhere. A wake() while nobody sleeps is remembered, so no signal is lost
 * between "nothing to do" and "go to sleep".
 */
export class WakeSignal {
  private wakeUp: (() => void) | undefined;
  private pending = false;

  wake(): void {
    if (this.wakeUp) {
      const w = this.wakeUp;
      this.wakeUp = undefined;
      w();
    } else {
      this.pending = true;
    }
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
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
}

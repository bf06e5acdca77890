import { errorMessage } from '../lib/errors.js';
import type { Settings } from './roles.js';

export interface WriteProbeResult {
  ok: boolean;
  error?: string;
}

/**
 * Readiness needs "can we write", not "does SELECT 1 answer": a full disk
 * answers reads. One real write (a settings row) at most every `intervalMs`;
 * callers in between get the last result, concurrent callers share one write.
 */
export class WriteProbe {
  private last: { at: number; result: WriteProbeResult } | undefined;
  private running: Promise<WriteProbeResult> | undefined;

  constructor(
    private readonly store: Pick<Settings, 'putSetting'>,
    private readonly intervalMs = 5_000,
  ) {}

  check(now = Date.now()): Promise<WriteProbeResult> {
    if (this.last && now - this.last.at < this.intervalMs) return Promise.resolve(this.last.result);
    this.running ??= this.store
      .putSetting('write_probe', String(now))
      .then(
        (): WriteProbeResult => ({ ok: true }),
        (err: unknown): WriteProbeResult => ({ ok: false, error: errorMessage(err) }),
      )
      .then((result) => {
        this.last = { at: now, result };
        this.running = undefined;
        return result;
      });
    return this.running;
  }
}

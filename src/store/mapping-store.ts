import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import { mappingProblems, type MappingConfig } from './mapping-schema.js';

export type { MappingConfig };

const EMPTY: MappingConfig = Object.freeze({ mappings: [] }) as MappingConfig;

/**
 * The active mapping configuration (the body of POST /api/meterData), read
 * from MAPPINGS_FILE. Polls the file's mtime so edits apply without restart;
 * an invalid file keeps the last good configuration and logs an error.
 */
export class MappingStore {
  private current: MappingConfig = EMPTY;
  private lastMtimeMs = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly pollMs = 1_000,
  ) {}

  get(): MappingConfig {
    return this.current;
  }

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads the file when its mtime changed. Never throws. */
  async reload(): Promise<void> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.file)).mtimeMs;
    } catch {
      if (this.lastMtimeMs !== 0) this.log.info({ file: this.file }, 'no mappings file; using an empty mapping configuration');
      this.lastMtimeMs = 0;
      this.current = EMPTY;
      return;
    }
    if (mtimeMs === this.lastMtimeMs) return;
    this.lastMtimeMs = mtimeMs;
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(this.file, 'utf8'));
    } catch (err) {
      this.log.error({ file: this.file, err: (err as Error).message }, 'mappings file is not valid JSON; keeping the last good configuration');
      return;
    }
    const problems = mappingProblems(doc);
    if (problems.length > 0) {
      this.log.error({ file: this.file, problems }, 'mappings file is invalid; keeping the last good configuration');
      return;
    }
    this.current = Object.freeze(doc as MappingConfig);
    this.log.info({ file: this.file, mappings: this.current.mappings.length }, 'mappings loaded');
  }
}

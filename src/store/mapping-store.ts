import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import { mappingProblems, type MappingConfig } from './mapping-schema.js';
import type { Mappings, Settings } from './roles.js';
import type { MappingVersion } from './store.js';

export type { MappingConfig };

const EMPTY_JSON = '{"mappings":[]}';
const FILE_HASH_SETTING = 'mappings_file_sha256';

type VersionStore = Mappings & Settings;

/**
 * The active mapping configuration (the body of POST /api/meterData).
 * Versions live in the database so every instance applies a change to its
 * next job; MAPPINGS_FILE is imported as version 1, and a later edit of the
 * file is imported as a new active version. An invalid file or version keeps
 * the last good configuration and logs an error.
 */
export class MappingStore {
  private current: MappingConfig = JSON.parse(EMPTY_JSON) as MappingConfig;
  private currentVersion = 0;
  private fileMtimeMs = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly store: VersionStore,
    private readonly log: Logger,
    private readonly opts: { pollMs?: number; importFile?: boolean; onChange?: () => void } = {},
  ) {}

  get(): MappingConfig {
    return this.current;
  }

  get version(): number {
    return this.currentVersion;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.pollMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Validates and stores a new active version. Returns the problems instead when invalid. */
  async put(doc: unknown): Promise<MappingVersion | string[]> {
    const problems = mappingProblems(doc);
    if (problems.length > 0) return problems;
    const v = await this.store.putMapping(JSON.stringify(doc), Date.now());
    this.apply(v);
    this.opts.onChange?.();
    return v;
  }

  async activate(version: number): Promise<MappingVersion | undefined> {
    const v = await this.store.activateMapping(version);
    if (v) {
      this.apply(v);
      this.opts.onChange?.();
    }
    return v;
  }

  /** Imports a changed file, then follows the active version in the database. Never throws. */
  async refresh(): Promise<void> {
    try {
      // Only one owner imports the file (the HTTP side); a pipeline thread follows the database.
      if (this.opts.importFile !== false) await this.importFile();
      const active = await this.store.getActiveMapping();
      if (active && active.version !== this.currentVersion) {
        this.apply(active);
        this.opts.onChange?.();
      }
    } catch (err) {
      this.log.error({ err }, 'refreshing mappings failed; keeping the current configuration');
    }
  }

  private apply(v: MappingVersion): void {
    let doc: unknown;
    try {
      doc = JSON.parse(v.json);
    } catch {
      doc = undefined;
    }
    const problems = mappingProblems(doc);
    if (problems.length > 0) {
      this.log.error({ version: v.version, problems }, 'active mapping version is invalid; keeping the last good one');
      this.currentVersion = v.version;
      return;
    }
    this.current = Object.freeze(doc as MappingConfig);
    this.currentVersion = v.version;
    this.log.info({ version: v.version, mappings: this.current.mappings.length }, 'mappings active');
  }

  private async importFile(): Promise<void> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(this.file)).mtimeMs;
    } catch {
      mtimeMs = 0;
    }
    if (mtimeMs === this.fileMtimeMs) return;
    this.fileMtimeMs = mtimeMs;
    let text = EMPTY_JSON;
    if (mtimeMs !== 0) {
      text = await readFile(this.file, 'utf8');
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        this.log.error({ file: this.file }, 'mappings file is not valid JSON; keeping the last good configuration');
        return;
      }
      const problems = mappingProblems(doc);
      if (problems.length > 0) {
        this.log.error({ file: this.file, problems }, 'mappings file is invalid; keeping the last good configuration');
        return;
      }
      text = JSON.stringify(doc);
    }
    const hash = createHash('sha256').update(text).digest('hex');
    const known = await this.store.getSetting(FILE_HASH_SETTING);
    const hasVersions = (await this.store.getActiveMapping()) !== undefined;
    // A missing file only seeds version 1; it never replaces versions set through the admin API.
    if (hash === known || (mtimeMs === 0 && hasVersions)) return;
    const v = await this.store.putMapping(text, Date.now());
    await this.store.putSetting(FILE_HASH_SETTING, hash);
    this.log.info({ file: this.file, version: v.version }, 'mappings file imported');
  }
}

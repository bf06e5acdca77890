import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { BridgeError } from '../../lib/errors.js';
import type { Logger } from '../../observability/logger.js';
import { bindRoles } from '../bind-roles.js';
import type { RoleMethods, StoreRoles } from '../roles.js';
import type { TelegramStore } from '../store.js';
import { PostgresAuditLog } from './audit-log.js';
import { PostgresGatewayRegistry } from './gateway-registry.js';
import { PostgresHousekeeping } from './housekeeping.js';
import { PostgresJobQueue } from './job-queue.js';
import { PostgresKeyProblems } from './key-problems.js';
import { PostgresMappings } from './mappings.js';
import { PostgresMeterKeys } from './meter-keys.js';
import { PostgresMeterRegistry } from './meter-registry.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresOutbox } from './outbox.js';
import { PostgresParserState } from './parser-state.js';
import { postgresConnection, type PostgresConnection } from './postgres-config.js';
import { PostgresSettings } from './settings.js';
import { PostgresTelegramIntake } from './telegram-intake.js';
import { PostgresTelegramQueries } from './telegram-queries.js';
import { WorkListener } from './work-listener.js';

/** Key of the session advisory lock held while migrating ("omsb" in ASCII). */
const MIGRATION_LOCK = 0x6f6d7362;

export interface PostgresStoreOptions {
  /** Pool size per instance (default 10). */
  poolSize?: number;
  /** Receives connection errors of idle pool clients and of the LISTEN connection. */
  log?: Logger;
  /** First reconnect delay of the LISTEN connection in ms (default 250, doubled up to 10 s). */
  listenReconnectMs?: number;
}

/**
 * Store for several instances on one PostgreSQL database. Jobs and outbox rows
 * are claimed with leases (`locked_by`, `locked_until`) and SKIP LOCKED, so no
 * two instances work on the same row and a dead instance's rows are taken over
 * once its lease expires. Enqueued work is announced with NOTIFY on
 * `oms_bridge_work`. DATABASE_URL may name a schema: see postgresConnection().
 *
 * This class opens and closes the pool; every other method is a role object's (one file per role
 * in this folder), bound onto the store by bindRoles.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface's methods are bound in the constructor (bindRoles)
export class PostgresStore implements TelegramStore {
  private readonly connection: PostgresConnection;
  /** Payload of our NOTIFYs, so our own listener skips them. */
  private readonly token = randomUUID();
  private readonly listener: WorkListener;
  private db: pg.Pool | undefined;

  constructor(url: string, private readonly opts: PostgresStoreOptions = {}) {
    this.connection = postgresConnection(url);
    this.listener = new WorkListener(this.connection.config, {
      ownToken: this.token,
      reconnectMs: opts.listenReconnectMs,
      onError: (err) => this.opts.log?.warn({ err }, 'PostgreSQL LISTEN connection failed; reconnecting'),
    });
    const pool = (): pg.Pool => this.pool();
    const roles: StoreRoles = {
      intake: new PostgresTelegramIntake(pool, this.token),
      jobQueue: new PostgresJobQueue(pool, this.token, this.listener),
      outbox: new PostgresOutbox(pool),
      meterKeys: new PostgresMeterKeys(pool),
      keyProblems: new PostgresKeyProblems(pool),
      mappings: new PostgresMappings(pool),
      telegramQueries: new PostgresTelegramQueries(pool, this.token),
      auditLog: new PostgresAuditLog(pool),
      settings: new PostgresSettings(pool),
      parserState: new PostgresParserState(pool),
      meterRegistry: new PostgresMeterRegistry(pool),
      housekeeping: new PostgresHousekeeping(pool),
      gatewayRegistry: new PostgresGatewayRegistry(pool),
    };
    bindRoles(this, roles);
  }

  async start(): Promise<void> {
    if (this.db) return;
    const pool = new pg.Pool({ ...this.connection.config, max: this.opts.poolSize ?? 10, application_name: 'oms-bridge' });
    // Without a listener an idle client's error (server restart) would crash the process.
    pool.on('error', (err) => this.opts.log?.warn({ err }, 'idle PostgreSQL connection failed'));
    this.db = pool;
    try {
      await this.migrate(pool);
      await this.listener.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const pool = this.db;
    this.db = undefined;
    await this.listener.stop();
    if (pool) await pool.end();
  }

  /** Runs pending migrations under a session advisory lock, so instances starting together migrate once. */
  private async migrate(pool: pg.Pool): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        if (this.connection.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.connection.schema}`);
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        const { rows } = await client.query<{ v: number }>('SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations');
        for (let v = (rows[0]?.v ?? 0) + 1; v <= POSTGRES_MIGRATIONS.length; v++) {
          await client.query('BEGIN');
          try {
            await client.query(POSTGRES_MIGRATIONS[v - 1] as string);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {});
            throw new BridgeError('migration_failed', `PostgreSQL migration ${v} failed: ${(err as Error).message}`, { cause: err });
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((err: Error) => {
          broken = err; // the lock goes with the session: destroy the connection
        });
      }
    } finally {
      client.release(broken);
    }
  }

  private pool(): pg.Pool {
    if (!this.db) throw new BridgeError('store_closed', 'store is not started');
    return this.db;
  }

  async ping(): Promise<void> {
    await this.pool().query('SELECT 1');
  }

  /** The pipeline thread opens its own pool. */
  shareWithThread(): undefined {
    return undefined;
  }

  onRelink(_listener: () => void): () => void {
    return () => {};
  }
}

export interface PostgresStore extends RoleMethods<StoreRoles> {}

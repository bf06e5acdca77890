import type pg from 'pg';
import type { Row } from '../store-rows.js';

/** A pool or one checked-out client (inside a transaction). */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** A statement prepared once per pooled connection (pg caches it by name). */
export interface NamedQuery {
  name: string;
  text: string;
}

/** The rows of one statement. */
export async function rows(on: Queryable, q: string | NamedQuery, values: unknown[] = []): Promise<Row[]> {
  return (await on.query<Row>(typeof q === 'string' ? { text: q, values } : { ...q, values })).rows;
}

/** Runs `fn` in one transaction on one pooled connection. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A failed ROLLBACK means the connection is broken: destroy it instead of returning it to the pool.
    await client.query('ROLLBACK').then(() => client.release(), (e: unknown) => client.release(e as Error));
    throw err;
  }
}

/** Placeholder builder for dynamic SQL: adds a value and returns `$n`. */
export function params(): { values: unknown[]; add: (value: unknown) => string } {
  const values: unknown[] = [];
  return { values, add: (value) => `$${values.push(value)}` };
}

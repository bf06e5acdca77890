import pg from 'pg';
import { BridgeError } from '../../lib/errors.js';
/**
 * Reads a `postgres://` DATABASE_URL. Two ways to pick the schema:
 * - `?schema=name` (our parameter): the schema is created if missing and used as
 *   the search_path of every connection;
 * - `?options=-c%20search_path%3Dname` (libpq's parameter, passed through by pg):
 *   used as is, the schema must exist.
 * BIGINT (epoch-ms times, ids) is parsed to number for this pool only, not
 * globally through pg.types: epoch ms and row ids stay far below 2^53.
 */
export function postgresConnection(url) {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        throw new BridgeError('invalid_database_url', 'DATABASE_URL is not a valid postgres:// URL');
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined) {
        if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
            throw new BridgeError('invalid_database_url', 'the schema parameter of DATABASE_URL must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*)');
        }
        parsed.searchParams.delete('schema');
        const options = parsed.searchParams.get('options');
        parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
    }
    const types = new pg.TypeOverrides();
    types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
    return { config: { connectionString: parsed.toString(), types }, schema };
}

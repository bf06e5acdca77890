/**
 * SQL condition for a {@link TelegramFilter} on the `telegrams` table aliased `t`,
 * shared by SQLite and PostgreSQL. `param` adds a value and returns its placeholder
 * (`?` or `$n`). Time bounds are half-open on created_at: `since` inclusive,
 * `until` exclusive, so consecutive windows never count a telegram twice.
 */
export function telegramFilter(filter, param) {
    const where = [];
    if (filter.status !== undefined)
        where.push(`t.status = ${param(filter.status)}`);
    if (filter.errorCode !== undefined)
        where.push(`t.error_code = ${param(filter.errorCode)}`);
    if (filter.meterId !== undefined)
        where.push(`t.meter_id = ${param(filter.meterId)}`);
    if (filter.gatewayId !== undefined)
        where.push(`t.gateway_id = ${param(filter.gatewayId)}`);
    if (filter.since !== undefined)
        where.push(`t.created_at >= ${param(filter.since)}`);
    if (filter.until !== undefined)
        where.push(`t.created_at < ${param(filter.until)}`);
    return where.length > 0 ? where.join(' AND ') : 'TRUE';
}

export const SCHEMA = 'oms.bridge.v1';
function envelope(job) {
    const e = {
        schema: SCHEMA,
        ingest_id: job.ingestId,
        gateway_id: job.gatewayId,
        rx_time: job.rxTime,
        rssi_dbm: job.rssiDbm,
        mode: job.mode,
        raw_hex: job.rawHex,
    };
    if (job.replay)
        e.replay = true;
    return e;
}
/** Payload on …/raw/{ingest_id}: published at ingest, before any parsing. */
export function rawPayload(job) {
    return { ...envelope(job), meter_hint: { id: job.meterId, manufacturer: job.manufacturer } };
}
/** Payload on …/meter/{meter_id}/reading (schemas/reading.schema.json). */
export function readingPayload(job, parsed) {
    return { ...envelope(job), meter: parsed.meter, parser: parsed.parser, ...parsed.extra, values: parsed.values };
}
/** Payload on …/errors/{ingest_id} (schemas/error.schema.json). */
export function errorPayload(job, meter, error) {
    return { ...envelope(job), meter, error };
}

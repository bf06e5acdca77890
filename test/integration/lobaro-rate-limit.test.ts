import { describe, expect, it } from 'vitest';
import { GLOBAL_KEY, startTestApp } from '../helpers/app.js';
import { FakeLobaro, tokenBucket } from '../helpers/fake-lobaro.js';
import { runLoad } from '../helpers/load.js';
import { Collector, startTestBroker } from '../helpers/mqtt.js';

/**
 * 50/s, not the 100/s: on a shared 2-core CI machine the pipeline
 * itself (ingest, SQLite, MQTT) may not sustain 100 telegrams/s, and then the
 * test would measure the machine, not the pacing. The limiter's share of the
 * limit at 100/s is measured on simulated time in test/unit/adaptive-rate-limiter.test.ts;
 * OMS_TEST_PARSER_LIMIT=100 runs this test at the numbers.
 */
const LIMIT = Number(process.env.OMS_TEST_PARSER_LIMIT ?? 50);

/**
 * Issue 10 § Parser rate limits: a parser that allows LIMIT requests/s and
 * answers the rest with 429 (or 503) + Retry-After: 1. A rejection is the
 * parser's state, not the telegram's fault: every telegram must become a
 * reading, few calls may be rejected, and the limit must be used.
 */
async function runAgainstLimitedParser(count: number, status: 429 | 503, salt: number) {
  const broker = await startTestBroker();
  const lobaro = new FakeLobaro();
  // One second of burst, as "N requests per second" quotas usually allow; it is
  // taken off the count below so the measure stays the sustained rate.
  const bucket = tokenBucket(LIMIT, { status, burst: LIMIT });
  const calls: Array<{ at: number; status: number }> = [];
  // Closed (every call rejected) until all telegrams are in: the backlog is
  // then parsed at the parser's pace, not at the pace the test can post.
  let open = false;
  lobaro.behaviour = (req, n) => {
    if (!open) return { status, headers: { 'retry-after': '1' } };
    const reply = bucket(req, n);
    calls.push({ at: Date.now(), status: reply.status });
    return reply;
  };
  const t = await startTestApp({
    MQTT_URL: broker.url, PARSER: 'lobaro', LOBARO_TOKEN: 'tok', LOBARO_BASE_URL: await lobaro.start(),
    N_WORKERS: '32', LOG_LEVEL: 'info',
  });
  const mqtt = await Collector.connect(broker.url, [`oms/v1/gw/${t.gatewayId}/#`]);
  try {
    const load = await runLoad({ baseUrl: t.app.url, key: GLOBAL_KEY, gatewayId: t.gatewayId, concurrency: 8, count, salt });
    expect(load.statuses.get(202)).toBe(count);
    open = true;
    const done = (): number => mqtt.messages.filter((m) => m.topic.endsWith('/reading') || m.topic.includes('/errors/')).length;
    await mqtt.waitFor(() => done() >= count, 120_000);
    const readings = mqtt.messages.filter((m) => m.topic.endsWith('/reading'));
    const errors = mqtt.messages.filter((m) => m.topic.includes('/errors/'));
    const rejected = calls.filter((c) => c.status === status).length;
    const first = calls[0]!.at;
    const last = Math.max(...readings.map((m) => m.at));
    const perS = (readings.length - LIMIT) / ((last - first) / 1_000);
    const share = rejected / calls.length;
    console.log(
      `parser limited to ${LIMIT}/s (${status}): ${readings.length}/${count} readings, ${errors.length} errors, ` +
        `${calls.length} calls, ${rejected} answered ${status} (${(share * 100).toFixed(1)} %), ${perS.toFixed(1)} telegrams/s ` +
        `(${((perS / LIMIT) * 100).toFixed(1)} % of the limit)`,
    );
    expect(errors.map((m) => m.json.error)).toEqual([]);
    expect(new Set(readings.map((m) => m.json.ingest_id)).size).toBe(count);
    expect(share).toBeLessThanOrEqual(0.05);
    expect(perS).toBeGreaterThanOrEqual(0.9 * LIMIT);
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    const allowed = /^oms_bridge_lobaro_rate_limit (\S+)$/m.exec(metrics.body);
    expect(allowed).not.toBeNull();
    // The learned rate sits near the parser's limit.
    expect(Number(allowed![1])).toBeGreaterThan(0.7 * LIMIT);
    expect(Number(allowed![1])).toBeLessThan(1.6 * LIMIT);
  } finally {
    await mqtt.close();
    await t.stop();
    await lobaro.stop();
    await broker.stop();
  }
}

describe('parser rate limits', () => {
  it('20 s of telegrams against a rate-limited parser (429 + Retry-After): all readings, ≤ 5 % rejected, ≥ 90 % of the limit used', async () => {
    await runAgainstLimitedParser(LIMIT * 20, 429, 41);
  }, 150_000);

  // 20 s as well: the last rejected telegrams wait out their Retry-After, a tail a shorter run feels.
  it('20 s of telegrams against a rate-limited parser (503 + Retry-After): the same', async () => {
    await runAgainstLimitedParser(LIMIT * 20, 503, 42);
  }, 150_000);
});

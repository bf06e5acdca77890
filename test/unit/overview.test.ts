import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { OverviewTracker, RECENT_ERRORS, SERIES_MINUTES } from '../../src/observability/overview.js';

function tracker(start = Date.parse('2026-01-01T10:00:00Z')) {
  const events = new EventBus(createLogger('silent'));
  let now = start;
  let countCalls = 0;
  const t = new OverviewTracker({
    events, parser: 'local',
    depths: () => ({ queue: 3, outbox: 4, oldestOutboxAt: null }),
    pipeline: () => ({ circuit: null, mqttConnected: true, running: true }),
    meterCounts: async () => {
      countCalls++;
      return { ok: 2, stale: 1, key_problem: 0 };
    },
    now: () => now,
  });
  t.start();
  return { t, events, advance: (ms: number) => { now += ms; }, countCalls: () => countCalls };
}

describe('OverviewTracker', () => {
  it('counts accepted telegrams (single and batch) in a sliding minute and per minute', async () => {
    const { t, events, advance } = tracker();
    events.emit('accepted', { ingestId: 'a', gatewayId: 'g', durationMs: 1 });
    events.emit('batchItems', { via: 'http', gatewayId: 'g', accepted: 5, duplicate: 1, invalid: 0, repeated: 0 });
    advance(30_000);
    events.emit('accepted', { ingestId: 'b', gatewayId: 'g', durationMs: 1 });
    let o = await t.snapshot();
    expect(o.acceptedLastMinute).toBe(7);
    expect(o.perMinute).toHaveLength(SERIES_MINUTES);
    expect(o.perMinute.at(-1)).toMatchObject({ accepted: 7, done: 0, error: 0 });
    advance(40_000); // the first six are now 70 s old
    o = await t.snapshot();
    expect(o.acceptedLastMinute).toBe(1);
    expect(o.perMinute.at(-2)).toMatchObject({ accepted: 7 });
    expect(o.perMinute.at(-1)).toMatchObject({ accepted: 0 });
    advance(SERIES_MINUTES * 60_000); // a whole series later every slot is old
    o = await t.snapshot();
    expect(o.perMinute.reduce((s, m) => s + m.accepted, 0)).toBe(0);
    expect(o.acceptedLastMinute).toBe(0);
    for (let i = 1; i < o.perMinute.length; i++) expect(o.perMinute[i]!.at - o.perMinute[i - 1]!.at).toBe(60_000);
  });

  it('keeps the newest errors with meter and message, and counts outcomes', async () => {
    const { t, events } = tracker();
    events.emit('jobFinished', { ingestId: 'ok', status: 'done', attempts: 1 });
    for (let i = 0; i < RECENT_ERRORS + 5; i++) {
      events.emit('jobFinished', { ingestId: `e${i}`, status: 'error', code: 'decrypt_key_missing', attempts: 1, message: 'no key', meterId: `m${i}` });
    }
    const o = await t.snapshot();
    expect(o.recentErrors).toHaveLength(RECENT_ERRORS);
    expect(o.recentErrors[0]).toMatchObject({ ingestId: `e${RECENT_ERRORS + 4}`, code: 'decrypt_key_missing', message: 'no key', meterId: `m${RECENT_ERRORS + 4}` });
    expect(o.perMinute.at(-1)).toMatchObject({ done: 1, error: RECENT_ERRORS + 5 });
    expect(o).toMatchObject({ parser: 'local', mqttConnected: true, depths: { queue: 3, outbox: 4 }, meters: { ok: 2, stale: 1, key_problem: 0 } });
  });

  it('counts meters at most once per 5 s, and stops listening on stop()', async () => {
    const { t, events, advance, countCalls } = tracker();
    await t.snapshot();
    await t.snapshot();
    expect(countCalls()).toBe(1);
    advance(5_000);
    await t.snapshot();
    expect(countCalls()).toBe(2);
    t.stop();
    events.emit('accepted', { ingestId: 'a', gatewayId: 'g', durationMs: 1 });
    expect((await t.snapshot()).acceptedLastMinute).toBe(0);
  });
});

import { useState } from 'preact/hooks';
import { api, ApiError, must } from '../client';
import { Badge, ErrorNote } from '../components/bits';
import { LineChart } from '../components/chart';
import { KeyFix, RecentTelegrams } from '../components/key-fix';
import { ago, mainValue, num, when } from '../format';
import { useLoad } from '../hooks';

const RANGES = [['24 h', 86_400_000], ['7 days', 7 * 86_400_000], ['30 days', 30 * 86_400_000]] as const;

export function MeterPage({ meterId }: { meterId: string }) {
  const [range, setRange] = useState<number>(RANGES[1][1]);
  const meter = useLoad(async () => must(await api.GET('/v1/admin/meters/{meter_id}', { params: { path: { meter_id: meterId } } })), [meterId], 15_000);
  const key = useLoad(async () => {
    const r = await api.GET('/v1/admin/keys/{meter_id}', { params: { path: { meter_id: meterId } } });
    return r.response.status === 404 ? null : must(r);
  }, [meterId]);
  const series = useLoad(async () => must(await api.GET('/v1/admin/meters/{meter_id}/readings', {
    params: { path: { meter_id: meterId }, query: { since: new Date(Date.now() - range).toISOString(), limit: 2000 } },
  })), [meterId, range], 30_000);

  const m = meter.data;
  const points = (series.data?.items ?? []).flatMap((r) => {
    const v = mainValue(r.values);
    return v ? [{ t: new Date(r.at).getTime(), v: v.value as number, name: v.name, unit: v.unit ?? '' }] : [];
  });
  const main = points.at(-1);
  const notHeard = meter.error instanceof ApiError && meter.error.status === 404;

  return (
    <>
      <h1 tabIndex={-1}>Meter {meterId}</h1>
      {notHeard ? <p class="muted">This meter is not in the liveness list (it may only have sent telegrams that need a key).</p> : <ErrorNote error={meter.error} />}
      {m && (
        <dl class="facts">
          <div><dt>Status</dt><dd><Badge status={m.status} /></dd></div>
          <div><dt>Manufacturer</dt><dd>{m.manufacturer ?? '—'}</dd></div>
          <div><dt>Type</dt><dd>{m.type ?? '—'}{m.driver && ` · driver ${m.driver}`}{m.parser && ` · parser ${m.parser}`}</dd></div>
          <div><dt>Last seen</dt><dd title={m.last_seen}>{ago(m.last_seen)} ({when(m.last_seen)})</dd></div>
          <div><dt>Interval</dt><dd>{m.interval_s === null ? 'not learned yet' : `${m.interval_s} s`}</dd></div>
          <div><dt>Stale at</dt><dd>{when(m.stale_at)}</dd></div>
          <div><dt>Gateways</dt><dd>{m.gateways.map((g) => `${g.gateway_id}${g.rssi_dbm === null ? '' : ` (${g.rssi_dbm} dBm)`}`).join(', ') || '—'}</dd></div>
          {m.last_error && <div><dt>Last error</dt><dd><code>{m.last_error.code}</code> {m.last_error.message}</dd></div>}
        </dl>
      )}

      <section aria-labelledby="chart-h">
        <h2 id="chart-h">{main ? `${main.name} over time` : 'Main value over time'}</h2>
        <div class="row">
          {RANGES.map(([label, ms]) => (
            <button key={label} type="button" class="small" aria-pressed={range === ms} onClick={() => setRange(ms)}>{label}</button>
          ))}
        </div>
        <ErrorNote error={series.error} />
        <LineChart title={main ? `${main.name} (${main.unit})` : 'readings'} unit={main?.unit} zeroBased={false}
          series={[{ label: main?.name ?? 'value', color: '--series-1', points }]} />
        {main && <p>Latest: <strong>{num(main.v)} {main.unit}</strong></p>}
      </section>

      <section aria-labelledby="key-h">
        <h2 id="key-h">Key</h2>
        <ErrorNote error={key.error} />
        {key.data === null && (m?.status === 'key_problem' || notHeard
          ? <p><Badge status="key_missing" /> No key stored for this meter.</p>
          : <p>No key stored; none needed so far (its telegrams decode without one).</p>)}
        {key.data && <p>Key stored, key id <code title={key.data.key_id}>{key.data.key_id.slice(0, 16)}…</code>, updated {when(key.data.updated_at)}.</p>}
        {key.data !== undefined && (
          <details open={m?.status === 'key_problem' || (key.data === null && notHeard)}>
            <summary>{key.data ? 'Replace the key' : 'Enter the key'}</summary>
            <KeyFix meterId={meterId} manufacturer={m?.manufacturer ?? null} onChange={key.reload} />
          </details>
        )}
      </section>

      <RecentTelegrams meterId={meterId} />
    </>
  );
}

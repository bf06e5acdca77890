import { useState } from 'preact/hooks';
import { api, must, type Ok } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { ago, num, type ValueItem, when } from '../format';
import { useLoad } from '../hooks';

type MeterItem = Ok<'/v1/admin/meters', 'get'>['items'][number];
type Liveness = Extract<MeterItem, { status: string }>;

/** Fields the meters table shows beyond liveness, when the server sends them. */
export function meterExtras(m: object): { type: string | null; driver: string | null; values: ValueItem[] } {
  const r = m as Record<string, unknown>;
  const type = r.device_type ?? r.type ?? null;
  const values = Array.isArray(r.last_values) ? (r.last_values as ValueItem[]) : [];
  return { type: type === null ? null : String(type), driver: typeof r.driver === 'string' ? r.driver : null, values };
}

const STATUSES = ['', 'ok', 'stale', 'key_problem', 'key_missing'] as const;

export function MetersPage() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const meters = useLoad(async () => {
    const page = must(await api.GET('/v1/admin/meters', { params: { query: { limit: 500, ...(status ? { status } : {}) } } }));
    return page.items;
  }, [status], 15_000);
  const needle = q.trim().toLowerCase();
  const items = (meters.data ?? []).filter((m) => needle === '' || m.meter_id.toLowerCase().startsWith(needle)
    || (m.manufacturer ?? '').toLowerCase().startsWith(needle));

  return (
    <>
      <h1 tabIndex={-1}>Meters</h1>
      <form class="filters" aria-label="Filter meters" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="meter-q">Search (meter id or manufacturer prefix)</label>
          <input id="meter-q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
        </div>
        <div>
          <label for="meter-status">Status</label>
          <select id="meter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as typeof status)}>
            {STATUSES.map((s) => <option key={s} value={s}>{s === '' ? 'all' : s.replace('_', ' ')}</option>)}
          </select>
        </div>
      </form>
      <ErrorNote error={meters.error} />
      <p class="muted" aria-live="polite">{meters.loading && !meters.data ? 'Loading…' : `${items.length} meter(s)`}</p>
      <TableBox label="Meters">
        <table>
          <thead>
            <tr>
              <th scope="col">Meter</th><th scope="col">Mfr.</th><th scope="col">Type</th><th scope="col">Driver</th>
              <th scope="col">Last values</th><th scope="col">Last seen</th><th scope="col">Status</th><th scope="col">Gateways (RSSI)</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => {
              const x = meterExtras(m);
              const live = 'status' in m ? (m as Liveness) : undefined;
              return (
                <tr key={m.meter_id}>
                  <th scope="row"><a href={`#/meters/${encodeURIComponent(m.meter_id)}`}>{m.meter_id}</a></th>
                  <td>{m.manufacturer ?? '—'}</td>
                  <td>{x.type ?? '—'}</td>
                  <td>{x.driver ?? '—'}</td>
                  <td>{x.values.length === 0 ? '—' : x.values.slice(0, 2).map((v) => `${v.name} ${num(v.value)}${v.unit ? ` ${v.unit}` : ''}`).join(', ')}</td>
                  <td title={m.last_seen}>{ago(m.last_seen)}<span class="sub">{when(m.last_seen)}</span></td>
                  <td><Badge status={live ? live.status : 'key_missing'} /></td>
                  <td>
                    {live
                      ? live.gateways.map((g) => `${g.gateway_id}${g.rssi_dbm === null ? '' : ` (${g.rssi_dbm} dBm)`}`).join(', ')
                      : 'gateways' in m ? m.gateways.join(', ') : ''}
                  </td>
                </tr>
              );
            })}
            {items.length === 0 && !meters.loading && <tr><td colSpan={8} class="muted">No meter matches.</td></tr>}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}

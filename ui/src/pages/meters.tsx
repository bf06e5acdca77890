import { useState } from 'preact/hooks';
import { api, must } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { ago, num, when } from '../format';
import { useLoad } from '../hooks';

const STATUSES = ['', 'ok', 'stale', 'key_problem', 'key_missing'] as const;

export function MetersPage() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const meters = useLoad(async () => {
    // The server filters by id prefix (q); the key_missing list is small and filtered here.
    const prefix = q.trim();
    const query = { limit: 500, ...(status ? { status } : {}), ...(prefix && status !== 'key_missing' ? { q: prefix } : {}) };
    const page = must(await api.GET('/v1/admin/meters', { params: { query } }));
    return page.items.filter((m) => m.meter_id.startsWith(prefix));
  }, [status, q], 15_000);
  const items = meters.data ?? [];

  return (
    <>
      <h1 tabIndex={-1}>Meters</h1>
      <form class="filters" aria-label="Filter meters" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="meter-q">Search (meter id prefix)</label>
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
              const live = 'status' in m ? m : undefined;
              const values = live?.last_reading?.values.filter((v) => v.storage === undefined || v.storage === 0) ?? [];
              return (
                <tr key={m.meter_id}>
                  <th scope="row"><a href={`#/meters/${encodeURIComponent(m.meter_id)}`}>{m.meter_id}</a></th>
                  <td>{m.manufacturer ?? '—'}</td>
                  <td>{live?.type ?? '—'}</td>
                  <td>{live?.driver ?? '—'}</td>
                  <td>{values.length === 0 ? '—' : values.slice(0, 2).map((v) => `${v.name} ${num(v.value)}${v.unit ? ` ${v.unit}` : ''}`).join(', ')}</td>
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

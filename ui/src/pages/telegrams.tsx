import { useEffect, useState } from 'preact/hooks';
import { api, must, type Ok } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { num, valuesOf, when } from '../format';

type Telegram = Ok<'/v1/admin/telegrams', 'get'>['items'][number];
const STATUSES = ['', 'queued', 'processing', 'done', 'error'] as const;
type Status = (typeof STATUSES)[number];

interface Filter {
  meter_id: string;
  gateway_id: string;
  status: Status;
  since: string;
  until: string;
}

/** datetime-local text (local time) → RFC 3339 for the API. */
function rfc3339(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function fromQuery(q: URLSearchParams): Filter {
  const status = q.get('status') ?? '';
  return {
    meter_id: q.get('meter_id') ?? '', gateway_id: q.get('gateway_id') ?? '',
    status: (STATUSES as readonly string[]).includes(status) ? (status as Status) : '', since: '', until: '',
  };
}

export function TelegramsPage({ query }: { query: URLSearchParams }) {
  const [filter, setFilter] = useState<Filter>(() => fromQuery(query));
  const [rows, setRows] = useState<Telegram[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function load(more: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const since = rfc3339(filter.since);
      const until = rfc3339(filter.until);
      const q = {
        limit: 50,
        ...(filter.meter_id.trim() ? { meter_id: filter.meter_id.trim() } : {}),
        ...(filter.gateway_id.trim() ? { gateway_id: filter.gateway_id.trim() } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(more && cursor ? { cursor } : {}),
      };
      const page = must(await api.GET('/v1/admin/telegrams', { params: { query: q } }));
      setRows(more ? [...(rows ?? []), ...page.items] : page.items);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => { void load(false); }, []);
  const set = (k: keyof Filter) => (e: Event) => setFilter({ ...filter, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <>
      <h1 tabIndex={-1}>Telegrams</h1>
      <form class="filters" aria-label="Filter telegrams" onSubmit={(e) => { e.preventDefault(); void load(false); }}>
        <div><label for="f-meter">Meter id</label><input id="f-meter" value={filter.meter_id} onInput={set('meter_id')} autocomplete="off" spellcheck={false} /></div>
        <div><label for="f-gw">Gateway id</label><input id="f-gw" value={filter.gateway_id} onInput={set('gateway_id')} autocomplete="off" spellcheck={false} /></div>
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" value={filter.status} onChange={set('status')}>
            {STATUSES.map((s) => <option key={s} value={s}>{s || 'any'}</option>)}
          </select>
        </div>
        <div><label for="f-since">Since</label><input id="f-since" type="datetime-local" step={1} value={filter.since} onInput={set('since')} /></div>
        <div><label for="f-until">Until</label><input id="f-until" type="datetime-local" step={1} value={filter.until} onInput={set('until')} /></div>
        <div class="end"><button type="submit" disabled={busy}>Filter</button></div>
      </form>
      <ErrorNote error={error} />
      <TableBox label="Telegrams">
        <table>
          <thead>
            <tr><th scope="col">Accepted</th><th scope="col">Meter</th><th scope="col">Gateway</th><th scope="col">Status</th><th scope="col">Outcome</th></tr>
          </thead>
          <tbody>
            {rows?.map((t) => {
              const values = valuesOf(t.result);
              return (
                <tr key={t.ingest_id}>
                  <th scope="row"><a href={`#/telegrams/${encodeURIComponent(t.ingest_id)}`}>{when(t.accepted_at)}</a></th>
                  <td>{t.meter_id ?? '—'}</td>
                  <td>{t.gateway_id}</td>
                  <td><Badge status={t.status} /></td>
                  <td>{t.error_code ? <code>{t.error_code}</code> : values.slice(0, 2).map((v) => `${v.name} ${num(v.value)} ${v.unit ?? ''}`.trim()).join(' · ')}</td>
                </tr>
              );
            })}
            {rows?.length === 0 && <tr><td colSpan={5} class="muted">No telegram matches.</td></tr>}
          </tbody>
        </table>
      </TableBox>
      {cursor && <button type="button" onClick={() => load(true)} disabled={busy}>Load more</button>}
    </>
  );
}

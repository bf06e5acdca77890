import { useState } from 'preact/hooks';
import { api, must } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { KeyFix } from '../components/key-fix';
import { ago, when } from '../format';
import { useLoad } from '../hooks';
import { KeyImport } from './key-import';

interface KeyProblem {
  meter_id: string;
  manufacturer: string | null;
  problem: string;
  count: number | null;
  first_seen: string;
  last_seen: string;
  gateways: string[];
}

/** Meters seen encrypted without a key, then meters whose last telegram failed to decrypt with the stored key. */
async function keyProblems(): Promise<KeyProblem[]> {
  const [missing, failing] = await Promise.all([
    api.GET('/v1/admin/meters', { params: { query: { status: 'key_missing', limit: 500 } } }).then(must),
    api.GET('/v1/admin/meters', { params: { query: { status: 'key_problem', limit: 500 } } }).then(must),
  ]);
  const out: KeyProblem[] = [];
  for (const m of missing.items) {
    if (!('count' in m)) continue;
    out.push({ meter_id: m.meter_id, manufacturer: m.manufacturer, problem: 'key_missing', count: m.count, first_seen: m.first_seen, last_seen: m.last_seen, gateways: m.gateways });
  }
  for (const m of failing.items) {
    if (!('status' in m) || out.some((p) => p.meter_id === m.meter_id)) continue;
    const problem = m.last_error?.code === 'decrypt_key_missing' ? 'key_missing' : m.last_error?.message?.startsWith('truncated') ? 'truncated' : 'wrong_key';
    out.push({ meter_id: m.meter_id, manufacturer: m.manufacturer, problem, count: null, first_seen: m.first_seen, last_seen: m.last_seen, gateways: m.gateways.map((g) => g.gateway_id) });
  }
  return out;
}

export function KeysPage() {
  const problems = useLoad(keyProblems, [], 10_000);
  const keys = useLoad(async () => must(await api.GET('/v1/admin/keys', { params: { query: { limit: 200 } } })).items, []);
  const [selected, setSelected] = useState<string>();
  const chosen = problems.data?.find((p) => p.meter_id === selected);

  return (
    <>
      <h1 tabIndex={-1}>Keys</h1>
      <section aria-labelledby="problems-h">
        <h2 id="problems-h">Key problems</h2>
        <ErrorNote error={problems.error} />
        <TableBox label="Key problems">
          <table>
            <thead>
              <tr>
                <th scope="col">Meter</th><th scope="col">Problem</th><th scope="col"><span class="sr-only">Action</span></th><th scope="col">Mfr.</th>
                <th scope="col" class="n">Telegrams</th><th scope="col">First seen</th><th scope="col">Last seen</th><th scope="col">Gateways</th>
              </tr>
            </thead>
            <tbody>
              {problems.data?.map((p) => (
                <tr key={p.meter_id} class={p.meter_id === selected ? 'selected' : undefined}>
                  <th scope="row"><a href={`#/meters/${encodeURIComponent(p.meter_id)}`}>{p.meter_id}</a></th>
                  <td><Badge status={p.problem} /></td>
                  <td>
                    <button type="button" class="small" aria-expanded={p.meter_id === selected} onClick={() => setSelected(p.meter_id === selected ? undefined : p.meter_id)}>
                      Enter key<span class="sr-only"> for {p.meter_id}</span>
                    </button>
                  </td>
                  <td>{p.manufacturer ?? '—'}</td>
                  <td class="n">{p.count ?? '—'}</td>
                  <td title={p.first_seen}>{when(p.first_seen)}</td>
                  <td title={p.last_seen}>{ago(p.last_seen)}</td>
                  <td>{p.gateways.join(', ')}</td>
                </tr>
              ))}
              {problems.data?.length === 0 && <tr><td colSpan={8} class="muted">No key problems.</td></tr>}
            </tbody>
          </table>
        </TableBox>
        {selected && (
          <div class="panel">
            <KeyFix key={selected} meterId={selected} manufacturer={chosen?.manufacturer ?? null} autoFocus onChange={keys.reload} />
          </div>
        )}
      </section>

      <section aria-labelledby="import-h">
        <h2 id="import-h">Import a key file</h2>
        <KeyImport onImported={() => { keys.reload(); problems.reload(); }} />
      </section>

      <section aria-labelledby="stored-h">
        <h2 id="stored-h">Stored keys</h2>
        <ErrorNote error={keys.error} />
        <TableBox label="Stored keys">
          <table>
            <thead><tr><th scope="col">Meter</th><th scope="col">Mfr.</th><th scope="col">Key id (SHA-256)</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              {keys.data?.map((k) => (
                <tr key={k.meter_id}>
                  <th scope="row"><a href={`#/meters/${encodeURIComponent(k.meter_id)}`}>{k.meter_id}</a></th>
                  <td>{k.manufacturer ?? '—'}</td>
                  <td><code title={k.key_id}>{k.key_id.slice(0, 16)}…</code></td>
                  <td>{when(k.updated_at)}</td>
                </tr>
              ))}
              {keys.data?.length === 0 && <tr><td colSpan={4} class="muted">No keys stored.</td></tr>}
            </tbody>
          </table>
        </TableBox>
      </section>
    </>
  );
}

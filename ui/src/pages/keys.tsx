import { useState } from 'preact/hooks';
import { api, must } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { KeyFix } from '../components/key-fix';
import { ago, when } from '../format';
import { useLoad } from '../hooks';
import { KeyImport } from './key-import';

const PROBLEM_HELP: Record<string, string> = {
  key_missing: 'ask the vendor for the key', wrong_key: 'fix a typo or a swapped key',
  truncated: "check the gateway's capture", unsupported_mode: 'not supported by the built-in decoder',
};

export function KeysPage() {
  const problems = useLoad(async () => must(await api.GET('/v1/admin/key-problems', { params: { query: { limit: 500 } } })).items, [], 10_000);
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
                  <td><Badge status={p.problem} /><span class="sub" title={p.detail ?? ''}>{PROBLEM_HELP[p.problem]}</span></td>
                  <td>
                    <button type="button" class="small" aria-expanded={p.meter_id === selected} onClick={() => setSelected(p.meter_id === selected ? undefined : p.meter_id)}>
                      Enter key<span class="sr-only"> for {p.meter_id}</span>
                    </button>
                  </td>
                  <td>{p.manufacturer ?? '—'}</td>
                  <td class="n">{p.count}</td>
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
            {chosen?.detail && <p>Latest failure: {chosen.detail}</p>}
            <KeyFix key={selected} meterId={selected} manufacturer={chosen?.manufacturer ?? null} autoFocus onChange={() => { keys.reload(); problems.reload(); }} />
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

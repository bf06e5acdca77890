import { useState } from 'preact/hooks';
import { api, must, type Ok } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';

type ImportResult = Ok<'/v1/admin/keys:import', 'post'>;

const MATCH_TEXT: Record<string, string> = {
  key_problem: 'has a key problem: this fixes it', known: 'known meter', unknown: 'never heard (kept for later)',
};

const csvBody = { headers: { 'content-type': 'text/csv' }, bodySerializer: (b: unknown) => b as string };

/** Vendor key file (CSV `meter_id;key_hex[;manufacturer]`): preview first (dry run, nothing stored), then import. */
export function KeyImport({ onImported }: { onImported: () => void }) {
  const [csv, setCsv] = useState('');
  const [preview, setPreview] = useState<ImportResult>();
  const [done, setDone] = useState<{ imported: number; rejected: number }>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function run(dryRun: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      const r = must(await api.POST('/v1/admin/keys:import', {
        body: csv, ...csvBody, params: { query: dryRun ? { dry_run: true } : {} },
      }));
      if (dryRun) {
        setPreview(r);
        setDone(undefined);
      } else {
        setDone({ imported: r.imported, rejected: r.results.length - r.imported });
        setPreview(undefined);
        setCsv('');
        onImported();
      }
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  async function readFile(e: Event) {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file) {
      setCsv(await file.text());
      setPreview(undefined);
    }
  }

  const valid = preview?.results.filter((r) => r.ok).length ?? 0;
  const sum = preview?.summary;
  return (
    <div class="import">
      <div>
        <label for="key-file">Key file (CSV)</label>
        <input id="key-file" type="file" accept=".csv,text/csv,text/plain" onChange={readFile} />
      </div>
      <div>
        <label for="key-csv">…or paste rows <code>meter_id;key_hex[;manufacturer]</code></label>
        <textarea id="key-csv" rows={4} spellcheck={false} autocomplete="off" value={csv}
          onInput={(e) => { setCsv(e.currentTarget.value); setPreview(undefined); }} />
      </div>
      <div class="row">
        <button type="button" disabled={busy || csv.trim() === ''} onClick={() => run(true)}>Preview</button>
        {preview && <button type="button" disabled={busy || valid === 0} onClick={() => run(false)}>Import {valid} key(s)</button>}
      </div>
      <ErrorNote error={error} />
      {done && <p role="status">Imported {done.imported} key(s){done.rejected > 0 ? `, ${done.rejected} row(s) rejected` : ''}.</p>}
      {preview && (
        <TableBox label="Import preview">
          <table>
            <caption>
              Preview, nothing stored yet{sum && `: ${sum.valid} valid, ${sum.invalid} invalid; ${sum.key_problem} fix a key problem, `
                + `${sum.known} known, ${sum.unknown} unknown; ${sum.replaces_key} replace a stored key`}
            </caption>
            <thead><tr><th scope="col" class="n">Row</th><th scope="col">Meter</th><th scope="col">Valid</th><th scope="col">Matches</th><th scope="col">Note</th></tr></thead>
            <tbody>
              {preview.results.map((r) => (
                <tr key={r.row}>
                  <td class="n">{r.row}</td>
                  <td>{r.meter_id ?? '—'}</td>
                  <td class="long">{r.ok ? <Badge status="ok" /> : <><Badge status="error" /> {r.error}</>}</td>
                  <td>{r.match ? MATCH_TEXT[r.match] ?? r.match : '—'}</td>
                  <td>{[r.has_key && 'replaces the stored key', r.duplicate_of_row !== undefined && `same meter as row ${r.duplicate_of_row}`].filter(Boolean).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </div>
  );
}

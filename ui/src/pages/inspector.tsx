import { useState } from 'preact/hooks';
import { ErrorNote } from '../components/bits';
import { type Decoded, HexView } from '../components/hex-view';
import { api, must } from '../client';

/** Paste a telegram (and optionally a key): the bridge decodes it without storing anything. */
export function InspectorPage() {
  return (
    <>
      <h1 tabIndex={-1}>Inspector</h1>
      <p class="muted">Decodes locally on the bridge; nothing is stored and the key is not kept or shown again.</p>
      <InspectorForm />
    </>
  );
}

/** `initial`: an answer to show before the operator decodes anything (a stored telegram's inspection). */
export function InspectorForm({ initialHex = '', initial }: { initialHex?: string; initial?: Decoded }) {
  const [hex, setHex] = useState(initialHex);
  const [key, setKey] = useState('');
  const [result, setResult] = useState<Decoded | undefined>(initial);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  async function run() {
    setBusy(true);
    setError(undefined);
    try {
      const body = { hex: hex.replace(/[\s:-]/g, ''), ...(key.trim() ? { key: key.replace(/\s+/g, '') } : {}) };
      setResult(must(await api.POST('/v1/admin/decode', { body })));
    } catch (err) {
      setError(err as Error);
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <form class="inspect-form" onSubmit={(e) => { e.preventDefault(); void run(); }}>
        <label for="insp-hex">Telegram (hex)</label>
        <textarea id="insp-hex" rows={3} required spellcheck={false} autocomplete="off" value={hex} onInput={(e) => setHex(e.currentTarget.value)} />
        <label for="insp-key">AES key (optional, 32 hex digits)</label>
        <div class="row">
          <input id="insp-key" type="password" autocomplete="off" spellcheck={false} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          <button type="submit" disabled={busy || hex.trim() === ''}>Decode</button>
        </div>
      </form>
      <ErrorNote error={error} />
      <div aria-live="polite">{result && <HexView decoded={result} />}</div>
    </>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, must } from '../client';
import { num, valuesOf, when } from '../format';
import { Badge, ErrorNote } from './bits';

type Step = { kind: 'idle' } | { kind: 'stored'; keyId: string } | { kind: 'replayed'; keyId: string; replayed: number; remaining: number };

/**
 * The key-problem fix in three clicks: store the key (write-only: the field is cleared and the key
 * is never shown again), replay the meter's failed telegrams, watch them turn into readings.
 */
export function KeyFix({ meterId, manufacturer, autoFocus = false, onChange }: {
  meterId: string; manufacturer: string | null; autoFocus?: boolean; onChange?: () => void;
}) {
  const [key, setKey] = useState('');
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  async function store(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = { key_hex: key.replace(/\s+/g, ''), ...(manufacturer && /^[A-Za-z]{3}$/.test(manufacturer) ? { manufacturer } : {}) };
      const stored = must(await api.PUT('/v1/admin/keys/{meter_id}', { params: { path: { meter_id: meterId } }, body }));
      setKey('');
      setStep({ kind: 'stored', keyId: stored.key_id });
      onChange?.();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  async function replay() {
    if (step.kind === 'idle') return;
    setBusy(true);
    setError(undefined);
    try {
      const r = must(await api.POST('/v1/admin/telegrams:replay', { body: { meter_id: meterId, status: 'error' } }));
      setStep({ kind: 'replayed', keyId: step.keyId, replayed: r.replayed, remaining: r.remaining });
      onChange?.();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  const id = `key-${meterId}`;
  return (
    <div class="key-fix">
      <form onSubmit={store}>
        <label for={id}>AES-128 key for meter {meterId} (32 hex digits)</label>
        <div class="row">
          <input id={id} ref={input} type="password" autocomplete="off" spellcheck={false} required pattern="\s*([0-9A-Fa-f]\s*){32}"
            value={key} onInput={(e) => setKey(e.currentTarget.value)} aria-describedby={`${id}-help`} />
          <button type="submit" disabled={busy}>Store key</button>
        </div>
        <p id={`${id}-help`} class="muted">Write-only: the bridge stores the key encrypted and never shows it again, only its key id.</p>
      </form>
      {step.kind !== 'idle' && (
        <div class="row" aria-live="polite">
          <p>Key stored (key id <code>{step.keyId.slice(0, 16)}…</code>).</p>
          <button type="button" onClick={replay} disabled={busy}>Replay failed telegrams</button>
        </div>
      )}
      {step.kind === 'replayed' && (
        <p aria-live="polite">{step.replayed} telegram(s) re-queued{step.remaining > 0 ? `, ${step.remaining} left: replay again` : ''}.</p>
      )}
      <ErrorNote error={error} />
      {step.kind === 'replayed' && <RecentTelegrams meterId={meterId} live />}
    </div>
  );
}

/** The meter's newest telegrams with their outcome; `live` refreshes every 1.5 s while any is unfinished. */
export function RecentTelegrams({ meterId, live = false }: { meterId: string; live?: boolean }) {
  const [rows, setRows] = useState<Array<{ ingest_id: string; status: string; accepted_at: string; error_code: string | null; result: unknown }>>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const page = must(await api.GET('/v1/admin/telegrams', { params: { query: { meter_id: meterId, limit: 10 } } }));
        if (stopped) return;
        setRows(page.items);
        setError(undefined);
        const busy = page.items.some((t) => t.status === 'queued' || t.status === 'processing');
        if (live || busy) timer = setTimeout(load, busy ? 1_500 : 5_000);
      } catch (err) {
        if (!stopped) setError(err as Error);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [meterId, live]);

  return (
    <section aria-label={`Recent telegrams of meter ${meterId}`}>
      <h3>Recent telegrams</h3>
      <ErrorNote error={error} />
      {rows?.length === 0 && <p class="muted">None stored.</p>}
      <ul class="telegram-list" aria-live="polite">
        {rows?.map((t) => {
          const values = valuesOf(t.result);
          return (
            <li key={t.ingest_id}>
              <Badge status={t.status} /> <a href={`#/telegrams/${encodeURIComponent(t.ingest_id)}`}>{when(t.accepted_at)}</a>{' '}
              {t.status === 'done' && values.length > 0
                ? <span class="reading">{values.filter((v) => typeof v.value === 'number').slice(0, 3).map((v) => `${v.name} ${num(v.value)} ${v.unit ?? ''}`.trim()).join(' · ')}</span>
                : t.error_code && <code>{t.error_code}</code>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

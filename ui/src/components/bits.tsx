import type { ComponentChildren } from 'preact';

const STATUS_TEXT: Record<string, string> = {
  ok: 'ok', stale: 'stale', key_problem: 'key problem', key_missing: 'key missing', wrong_key: 'wrong key', truncated: 'truncated',
  unsupported_mode: 'unsupported mode',
  done: 'done', error: 'error', queued: 'queued', processing: 'processing', online: 'online', silent: 'silent',
};

const STATUS_TONE: Record<string, string> = {
  ok: 'good', done: 'good', online: 'good', closed: 'good', connected: 'good',
  stale: 'warn', queued: 'warn', processing: 'warn', half_open: 'warn', silent: 'warn',
  key_problem: 'bad', key_missing: 'bad', wrong_key: 'bad', truncated: 'warn', unsupported_mode: 'warn', error: 'bad', open: 'bad', disconnected: 'bad',
};

/** A status word with colour AND text (colour alone is not enough for everybody). */
export function Badge({ status }: { status: string }) {
  return <span class={`badge ${STATUS_TONE[status] ?? 'neutral'}`}>{STATUS_TEXT[status] ?? status.replaceAll('_', ' ')}</span>;
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message}</p>;
}

export function Card({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <h3>{title}</h3>
      <div class="card-value">{children}</div>
    </section>
  );
}

/** Wide tables scroll sideways inside this box instead of widening the page on a phone. */
export function TableBox({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <section class="table-box" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}

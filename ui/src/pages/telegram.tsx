import { api, must } from '../client';
import { Badge, ErrorNote } from '../components/bits';
import { when } from '../format';
import { useLoad } from '../hooks';
import { InspectorForm } from './inspector';

export function TelegramPage({ ingestId }: { ingestId: string }) {
  const t = useLoad(async () => must(await api.GET('/v1/admin/telegrams/{ingest_id}', { params: { path: { ingest_id: ingestId } } })), [ingestId]);
  // Decoded on the bridge with the meter's stored key, which never reaches the page.
  const inspected = useLoad(async () => must(await api.GET('/v1/admin/telegrams/{ingest_id}/inspect', { params: { path: { ingest_id: ingestId } } })), [ingestId]);
  const d = t.data;
  const i = inspected.data;
  return (
    <>
      <h1 tabIndex={-1}>Telegram <code>{ingestId}</code></h1>
      <ErrorNote error={t.error} />
      {d && (
        <>
          <dl class="facts">
            <div><dt>Status</dt><dd><Badge status={d.status} /> {d.error_code && <code>{d.error_code}</code>}</dd></div>
            <div><dt>Meter</dt><dd>{d.meter_id ? <a href={`#/meters/${encodeURIComponent(d.meter_id)}`}>{d.meter_id}</a> : '—'}</dd></div>
            <div><dt>Gateway</dt><dd>{d.gateway_id}</dd></div>
            <div><dt>Received (gateway)</dt><dd>{d.rx_time}</dd></div>
            <div><dt>Accepted</dt><dd>{when(d.accepted_at)}</dd></div>
            <div><dt>Finished</dt><dd>{when(d.finished_at)}</dd></div>
            <div><dt>Published</dt><dd>{when(d.published_at)}</dd></div>
            <div><dt>Attempts</dt><dd>{d.attempts}</dd></div>
            {d.last_error && <div><dt>Last error</dt><dd>{d.last_error}</dd></div>}
          </dl>
          <h2>Inspector</h2>
          <ErrorNote error={inspected.error} />
          {i && (
            <p>{i.key_source === 'stored' ? 'Decoded with the key stored for this meter.' : 'Decoded without a key (none is stored for this meter).'} Paste a key below to try another one.</p>
          )}
          {(i || inspected.error) && <InspectorForm key={d.ingest_id} initialHex={d.raw_hex} initial={i} />}
          <details>
            <summary>Published payload (JSON)</summary>
            <pre>{JSON.stringify(d.result, null, 2)}</pre>
          </details>
        </>
      )}
    </>
  );
}

import { Badge, Card, ErrorNote, TableBox } from '../components/bits';
import { LineChart } from '../components/chart';
import { ago } from '../format';
import { useLoad } from '../hooks';
import { api, must } from '../client';

/** Refreshes itself every 5 s (paused while the tab is hidden). */
export function OverviewPage() {
  const o = useLoad(async () => must(await api.GET('/v1/admin/overview')), [], 5_000);
  const d = o.data;
  const minutes = d?.ingest.per_minute ?? [];
  const t = (at: string) => new Date(at).getTime();
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <ErrorNote error={o.error} />
      {d && (
        <>
          <p class="muted" aria-live="polite">Updated {new Date(d.at).toLocaleTimeString()}</p>
          <div class="cards">
            <Card title="Ingest (last minute)">{d.ingest.last_minute}</Card>
            <Card title="Queue depth">{d.queue.depth}</Card>
            <Card title="Outbox depth">{d.outbox.depth}{d.outbox.oldest_at && <span class="sub">oldest {ago(d.outbox.oldest_at)}</span>}</Card>
            <Card title="Parser">{d.parser}{d.lobaro_circuit && <span class="sub">Lobaro circuit <Badge status={d.lobaro_circuit} /></span>}</Card>
            <Card title="MQTT"><Badge status={d.mqtt.connected ? 'connected' : 'disconnected'} /></Card>
            <Card title="Meters">
              <a href="#/meters">{d.meters.ok + d.meters.stale + d.meters.key_problem}</a>
              <span class="sub">{d.meters.ok} ok · {d.meters.stale} stale · <a href="#/keys">{d.meters.key_problem} key problem</a></span>
            </Card>
          </div>
          <div class="charts">
            <LineChart title="Accepted per minute (last hour)" series={[{ label: 'accepted', color: '--series-1', points: minutes.map((m) => ({ t: t(m.at), v: m.accepted })) }]} />
            <LineChart title="Finished per minute (last hour)" series={[
              { label: 'readings', color: '--series-2', points: minutes.map((m) => ({ t: t(m.at), v: m.done })) },
              { label: 'errors', color: '--series-3', points: minutes.map((m) => ({ t: t(m.at), v: m.error })) },
            ]} />
          </div>
          <h2>Last errors</h2>
          <TableBox label="Last errors">
            <table>
              <thead><tr><th scope="col">When</th><th scope="col">Code</th><th scope="col">Meter</th><th scope="col">Message</th></tr></thead>
              <tbody>
                {d.recent_errors.map((e) => (
                  <tr key={e.ingest_id}>
                    <th scope="row"><a href={`#/telegrams/${encodeURIComponent(e.ingest_id)}`}>{ago(e.at)}</a></th>
                    <td><code>{e.code}</code></td>
                    <td>{e.meter_id ? <a href={`#/meters/${encodeURIComponent(e.meter_id)}`}>{e.meter_id}</a> : '—'}</td>
                    <td class="long">{e.message ?? ''}</td>
                  </tr>
                ))}
                {d.recent_errors.length === 0 && <tr><td colSpan={4} class="muted">No errors since this instance started.</td></tr>}
              </tbody>
            </table>
          </TableBox>
        </>
      )}
    </>
  );
}

import { api, must } from '../client';
import { Badge, ErrorNote, TableBox } from '../components/bits';
import { ago, num, when } from '../format';
import { useLoad } from '../hooks';

export function GatewaysPage() {
  const gateways = useLoad(async () => must(await api.GET('/v1/admin/gateways')).items, [], 10_000);
  const items = gateways.data ?? [];
  return (
    <>
      <h1 tabIndex={-1}>Gateways</h1>
      <p class="muted">Gateways heard in the last hour by this instance; refreshes every 10 s.</p>
      <ErrorNote error={gateways.error} />
      <TableBox label="Gateways">
        <table>
          <thead>
            <tr>
              <th scope="col">Gateway</th><th scope="col">Status</th><th scope="col">Last seen</th><th scope="col" class="n">Per min</th>
              <th scope="col" class="n">Last hour</th><th scope="col" class="n">Mean RSSI</th><th scope="col" class="n">Clock drift</th><th scope="col" class="n">Rejected</th>
            </tr>
          </thead>
          <tbody>
            {items.map((g) => {
              // online/silent comes from the gateway monitor (GATEWAY_SILENT_S) when the server reports it.
              const status = 'status' in g && typeof g.status === 'string' ? g.status : null;
              return (
                <tr key={g.gateway_id}>
                  <th scope="row"><a href={`#/telegrams?gateway_id=${encodeURIComponent(g.gateway_id)}`}>{g.gateway_id}</a></th>
                  <td>{status ? <Badge status={status} /> : '—'}</td>
                  <td title={g.last_seen ?? ''}>{ago(g.last_seen)}<span class="sub">{when(g.last_seen)}</span></td>
                  <td class="n">{g.telegrams_per_min}</td>
                  <td class="n">{g.telegrams_last_hour}</td>
                  <td class="n">{g.mean_rssi_dbm === null ? '—' : `${num(g.mean_rssi_dbm)} dBm`}</td>
                  <td class="n">{g.clock_drift_s === null ? '—' : `${num(g.clock_drift_s)} s`}</td>
                  <td class="n">{g.rejected}</td>
                </tr>
              );
            })}
            {items.length === 0 && !gateways.loading && <tr><td colSpan={8} class="muted">No gateway sent anything in the last hour.</td></tr>}
          </tbody>
        </table>
      </TableBox>
    </>
  );
}

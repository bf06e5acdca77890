import type { Logger } from '../observability/logger.js';
import type { MeterRegistry } from '../store/roles.js';
import type { DiscoveryMessage } from './discovery.js';
import type { HaDiscovery } from './ha-discovery.js';

/**
 * The configs to send again when HA comes online (its birth message). A meter deleted through another
 * instance (PostgreSQL) is still in this process's memory; re-sending its config would bring the device
 * back in HA, so meters without a liveness record are forgotten here instead. If the database cannot
 * tell, every config goes out: a device that comes back beats devices that HA lost.
 */
export async function birthConfigs(ha: HaDiscovery, store: Pick<MeterRegistry, 'matchMeters'>, log: Logger): Promise<DiscoveryMessage[]> {
  const { bridge, meters } = ha.all();
  const known = await store.matchMeters(meters.map((m) => m.meter.id)).then(
    (matches) => new Set(matches.filter((m) => m.status !== null).map((m) => m.meterId)),
    (err: unknown) => {
      log.warn({ err }, 'could not check which meters still exist; re-publishing every Home Assistant config');
      return null;
    },
  );
  const live = meters.filter(({ meter }) => {
    if (known === null || known.has(meter.id)) return true;
    ha.forget(meter);
    return false;
  });
  return [bridge, ...live.map((m) => m.config)];
}

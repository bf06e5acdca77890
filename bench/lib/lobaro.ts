import { FakeLobaro, okDomainModel } from '../../test/helpers/fake-lobaro.js';
import { onCleanup } from './common.js';

/**
 * The fake Lobaro for a benchmark: answers every request with a reading after `delayMs()`
 * (read per request, so a bench can change it between phases), stopped at cleanup.
 */
export async function startDelayedLobaro(delayMs: () => number): Promise<{ url: string }> {
  const lobaro = new FakeLobaro();
  const url = await lobaro.start();
  onCleanup(() => lobaro.stop());
  lobaro.behaviour = (req, n) => {
    // The request log would otherwise grow through the whole run.
    if (lobaro.requests.length > 1000) lobaro.requests.splice(0, lobaro.requests.length);
    return { ...okDomainModel(req, n), delayMs: delayMs() };
  };
  return { url };
}

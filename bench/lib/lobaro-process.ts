/**
 * The fake Lobaro as its own process: `node --import tsx bench/lib/lobaro-process.ts <delayMs>` prints
 * `url <base url>` and answers every request with a reading after delayMs. A bench whose load generator
 * shares an event loop with the fake parser measures the fake as much as the bridge.
 */
import { FakeLobaro, okDomainModel } from '../../test/helpers/fake-lobaro.js';

const delayMs = Number(process.argv[2] ?? '5');
const lobaro = new FakeLobaro();
const url = await lobaro.start();
lobaro.behaviour = (req, n) => {
  if (lobaro.requests.length > 1000) lobaro.requests.splice(0, lobaro.requests.length);
  return { ...okDomainModel(req, n), delayMs };
};
process.stdout.write(`url ${url}\n`);
process.on('SIGTERM', () => {
  void lobaro.stop().then(() => process.exit(0));
});

/**
 * Top self-time functions of a CPU profile.
 * Run: npx tsx bench/profile.ts <file.cpuprofile> [top=25]
 * Profiles come from `BENCH_CPU_PROF=1 npx tsx bench/ingest.ts` (or e2e.ts),
 * which start the bridge with `node --cpu-prof`, or from your own
 * `node --cpu-prof .bench-build/main.js`.
 */
import { printProfile, summarizeProfile } from './lib/profile.js';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx bench/profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
printProfile(summarizeProfile(file, top), top);

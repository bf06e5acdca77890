/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): self time per function and
 * per area (a package under node_modules, a bridge source file, node
 * internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  /** % of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: ProfileRow[];
  areas: ProfileRow[];
}

/** Short location: path inside the build or a package, node internals as is. */
function where(url: string): string {
  if (url === '') return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const build = u.indexOf('/.bench-build/');
  if (build >= 0) return `src/${u.slice(build + '/.bench-build/'.length)}`;
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return `src/${u.slice(dist + '/dist/'.length)}`;
  return u;
}

function area(url: string, fn: string): string {
  if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn;
  const w = where(url);
  if (w === '') return '(native/V8)';
  if (w.startsWith('node:')) return 'node internals';
  if (w.startsWith('src/')) return w.replace(/\.js$/, '.ts');
  const parts = w.split('/');
  return `npm ${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = `${functionName || '(anonymous)'} ${where(url) ? `${where(url)}:${lineNumber + 1}` : ''}`.trim();
    fns.set(name, (fns.get(name) ?? 0) + us);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, selfMs: us / 1000, share: (100 * us) / busy }));
  return { file, totalMs: total / 1000, idleMs: idle / 1000, busyMs: busy / 1000, functions: rows(fns), areas: rows(areas) };
}

export function printProfile(s: ProfileSummary, top = 20): void {
  console.log(`\nCPU profile ${s.file}`);
  console.log(`sampled ${(s.totalMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s (${((100 * s.busyMs) / s.totalMs).toFixed(0)}%)`);
  console.log('\ntop self time by function (% of busy time):');
  for (const r of s.functions.slice(0, top)) console.log(`  ${r.share.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}`);
  console.log('\nself time by area:');
  for (const r of s.areas.slice(0, top)) console.log(`  ${r.share.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}`);
}

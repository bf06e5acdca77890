/**
 * Decoder throughput on one core: full decode to the Lobaro-shaped object, without and with the
 * built-in meter drivers (src/drivers: the targets hold for both).
 * Rates are per second of this process's CPU time (process.cpuUsage, GC threads included), so a
 * machine shared with other work does not make them look slower; the wall-clock rate is printed
 * beside them. Run: npx tsx bench/decode.ts
 */
import { cpus, loadavg } from 'node:os';
import { decodeWithDrivers } from '../src/drivers/index.js';
import { loadDriverRegistry } from '../src/drivers/load.js';
import { decode, type DecodeOptions } from '../src/wmbus/index.js';

const drivers = loadDriverRegistry();

interface Case {
  name: string;
  hex: string;
  opts: DecodeOptions;
  target: number;
}

const CASES: Case[] = [
  // OMS example payload in security mode 0 (short TPL header, 3 records)
  { name: 'plain (mode 0)', hex: '2e4493157856341233037a2a0000002f2f0c1427048502046d32371f1502fd1700002f2f2f2f2f2f2f2f2f2f2f2f2f', opts: {}, target: 150_000 },
  // OMS Vol.2 Annex N example, AES-128-CBC
  { name: 'mode 5', hex: '2e4493157856341233037a2a0020055923c95aaa26d1b2e7493b013ec4a6f6d3529b520edff0ea6defc99d6d69ebf3', opts: { key: '0102030405060708090A0B0C0D0E0F11' }, target: 100_000 },
  // OMS security profile B: ELL-I + AFL (CMAC) + mode 7 with KDF-A
  { name: 'mode 7', hex: '434493157856341233038c2075900f002c25b30a000021924d4f2fb66e017a75002007109058475f4bc91df878b80a1b0f98b629024aac727942bfc549233c0140829b93', opts: { key: '000102030405060708090A0B0C0D0E0F' }, target: 50_000 },
  // jmbus Kamstrup C1 telegram, ELL-II AES-128-CTR
  { name: 'ELL AES-CTR', hex: '24442d2c692845631b168d3050209cd621b006b1140aef4953ae5b86fafc0b00e70705b846', opts: { key: '4E5508544202058100DFEFA06B0934A5' }, target: 0 },
  // Drivers at work: BFW 240 radio (proprietary bytes, 20 fields), Qundis walk-by container, IZAR PRIOS (LFSR)
  { name: 'driver bfw240', hex: '3644D7084774700002087A80C000002F2F6F1F01440100147000000000000000000000000000000000000000000037009B4410AC260221', opts: {}, target: 0 },
  { name: 'driver qwater', hex: '47449344483635121806780dff5f350082da0000600107c113ffff48200000bf2c91170000df2120200000008001000000060019001000160018000d001300350017002f046d370cc422c759', opts: {}, target: 0 },
  { name: 'driver izar', hex: '2944A511780729662366A20118001378D3B3DB8CEDD77731F25832AAF3DA8CADF9774EA673172E8C61F2', opts: {}, target: 0 },
];

interface Rate {
  /** Decodes per second of CPU time of this process. */
  cpu: number;
  /** Decodes per second of wall-clock time. */
  wall: number;
}

function measure(c: Case, ms: number, withDrivers: boolean): Rate {
  let n = 0;
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    if (withDrivers) for (let i = 0; i < 1000; i++) sink += decodeWithDrivers(c.hex, c.opts, drivers).Body.DataRecords.length;
    else for (let i = 0; i < 1000; i++) sink += decode(c.hex, c.opts).Body.DataRecords.length;
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const used = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  return { cpu: n / ((used.user + used.system) / 1e6), wall: n / (Number(elapsed) / 1e9) };
}

const best = (a: Rate, b: Rate): Rate => ({ cpu: Math.max(a.cpu, b.cpu), wall: Math.max(a.wall, b.wall) });

const rows: string[] = [];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(9);
for (const c of CASES) {
  measure(c, 300, true);
  const plain = best(measure(c, 1000, false), measure(c, 1000, false));
  const withDrivers = best(measure(c, 1000, true), measure(c, 1000, true));
  const verdict = c.target === 0 ? '' : Math.min(plain.cpu, withDrivers.cpu) >= c.target ? 'ok' : 'BELOW';
  rows.push(`| ${c.name.padEnd(14)} | ${fmt(plain.cpu)} | ${fmt(withDrivers.cpu)} | ${c.target === 0 ? '-'.padStart(9) : c.target.toLocaleString('en-US').padStart(9)} | ${verdict.padEnd(5)} | ${fmt(plain.wall)} | ${fmt(withDrivers.wall)} |`);
}
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (1 used), load average ${loadavg()[0]?.toFixed(1)}`);
console.log('| input          | decodes/s | + drivers | target/s  |       | wall/s    | wall + dr |');
console.log('| -------------- | --------- | --------- | --------- | ----- | --------- | --------- |');
for (const r of rows) console.log(r);

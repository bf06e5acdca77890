/**
 * Decoder throughput on one core: full decode to the Lobaro-shaped object.
 * Run: npx tsx bench/decode.ts
 */
import { cpus } from 'node:os';
import { decode, type DecodeOptions } from '../src/wmbus/index.js';

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
];

function measure(c: Case, ms: number): number {
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) sink += decode(c.hex, c.opts).Body.DataRecords.length;
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  if (sink < 0) console.log(sink);
  return n / (Number(elapsed) / 1e9);
}

const rows: string[] = [];
for (const c of CASES) {
  measure(c, 300);
  const best = Math.max(measure(c, 1000), measure(c, 1000));
  const verdict = c.target === 0 ? '' : best >= c.target ? 'ok' : 'BELOW';
  rows.push(`| ${c.name.padEnd(14)} | ${Math.round(best).toLocaleString('en-US').padStart(9)} | ${c.target === 0 ? '-'.padStart(9) : c.target.toLocaleString('en-US').padStart(9)} | ${verdict.padEnd(5)} |`);
}
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores (1 used)`);
console.log('| input          | decodes/s | target/s  |       |');
console.log('| -------------- | --------- | --------- | ----- |');
for (const r of rows) console.log(r);

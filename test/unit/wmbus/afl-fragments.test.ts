import { describe, expect, it } from 'vitest';
import { FragmentBuffer } from '../../../src/parser/local/fragment-buffer.js';
import { LocalParser } from '../../../src/parser/local/local-parser.js';
import { ParseError } from '../../../src/parser/parser.js';
import { decode, readFragment, reassembleAfl } from '../../../src/wmbus/index.js';

// OMS security profile B example (ELL 8C + AFL with CMAC + TPL mode 7), key 000102…0F.
const MODE7 = '434493157856341233038c2075900f002c25b30a000021924d4f2fb66e017a75002007109058475f4bc91df878b80a1b0f98b629024aac727942bfc549233c0140829b93';
const KEY7 = '000102030405060708090A0B0C0D0E0F';
const DLL = MODE7.slice(2, 20); // C M A without L
const AFL_FIELDS = MODE7.slice(34, 60); // MCL, MCR, MAC of the example's AFL
const TPDU = MODE7.slice(60);

const withL = (body: string) => `${(body.length / 2).toString(16).padStart(2, '0')}${body}`;
/**
 * The example split into fragments as EN 13757-7 clause 6 describes them (self-made: no public
 * fragmented telegram was found): FID 1 with MF set carries MCL, MCR and MAC, FID 2 the rest.
 */
function fragments(cut = 20, acc2 = '76'): [string, string] {
  const first = withL(`${DLL}8c2075900f016c${AFL_FIELDS}${TPDU.slice(0, 2 * cut)}`);
  const second = withL(`${DLL}8c20${acc2}90020200${TPDU.slice(2 * cut)}`);
  return [first, second];
}

describe('AFL fragment reassembly', () => {
  it('reads a fragment: FID, MF, the part after its AFL; telegrams that are not fragments give null', () => {
    const [a, b] = fragments();
    expect(readFragment(a)).toMatchObject({ fid: 1, more: true, sender: '931578563412' + '3303' });
    expect(readFragment(b)).toMatchObject({ fid: 2, more: false });
    expect(readFragment(b)!.part.length).toBe(TPDU.length / 2 - 20);
    expect(readFragment(MODE7)).toBeNull();
    expect(readFragment('zz')).toBeNull();
  });

  it('joins the fragments into the unfragmented message, byte for byte; its MAC and mode 7 check', () => {
    const [a, b] = fragments();
    const joined = reassembleAfl([readFragment(b)!, readFragment(a)!]);
    expect(joined).toEqual({ hex: MODE7 });
    const r = decode((joined as { hex: string }).hex, { key: KEY7 });
    expect(r.Afl?.MacValid).toBe(true);
    expect(r.Authenticated).toBe(true);
    expect(r.Body.DataRecords.length).toBeGreaterThan(0);
    // A fragment alone does not decode to values.
    expect(decode(a, { key: KEY7 }).Body.BodyParseError).toMatch(/AFL fragment 1/);
  });

  it('refuses incomplete sets, other senders and fragments that disagree', () => {
    const [a, b] = fragments();
    const fa = readFragment(a)!;
    const fb = readFragment(b)!;
    expect(reassembleAfl([fa])).toMatchObject({ error: expect.stringMatching(/not a complete message/) });
    expect(reassembleAfl([fb])).toMatchObject({ error: expect.any(String) });
    expect(reassembleAfl([fa, { ...fb, sender: '000000000000' + '0000' }])).toMatchObject({ error: expect.stringMatching(/different senders/) });
    // FID 2 with its own message counter (FCL 0x0802: MCR present), other than the one of FID 1.
    const counter = readFragment(withL(`${DLL}8c2076900602080100000${'0'}${TPDU.slice(40)}`));
    expect(counter).toMatchObject({ fid: 2, more: false });
    expect(reassembleAfl([fa, counter!])).toMatchObject({ error: 'the fragments disagree on AFL.MCR' });
  });
});

describe('fragment buffer (local parser path)', () => {
  it('holds fragments until the message is complete, then returns it once', () => {
    const buf = new FragmentBuffer();
    const [a, b] = fragments();
    expect(buf.add(readFragment(a)!)).toEqual({ kind: 'pending', held: 1 });
    expect(buf.size).toBe(1);
    expect(buf.add(readFragment(b)!)).toEqual({ kind: 'complete', rawHex: MODE7, fragments: 2 });
    expect(buf.size).toBe(0);
    // Order of arrival does not matter.
    expect(buf.add(readFragment(b)!).kind).toBe('pending');
    expect(buf.add(readFragment(a)!).kind).toBe('complete');
  });

  it('forgets messages older than the time limit and bounds the messages held', () => {
    let now = 0;
    const buf = new FragmentBuffer({ ttlMs: 1_000, maxMessages: 2, now: () => now });
    const [a, b] = fragments();
    buf.add(readFragment(a)!);
    now = 1_500;
    expect(buf.add(readFragment(b)!)).toEqual({ kind: 'pending', held: 1 }); // the first fragment expired
    expect(buf.size).toBe(1);
    const other = (id: string) => readFragment(withL(`${DLL.slice(0, 6)}${id}33038c2075900f016c${AFL_FIELDS}${TPDU.slice(0, 40)}`))!;
    buf.add(other('11111111'));
    buf.add(other('22222222'));
    expect(buf.size).toBe(2);
    expect(buf.add(readFragment(b)!).kind).toBe('pending'); // the oldest message went to make room
  });

  it('a fragment ID beyond the limit fails the message', () => {
    const buf = new FragmentBuffer({ maxFragments: 1 });
    const [, b] = fragments();
    expect(buf.add(readFragment(b)!)).toMatchObject({ kind: 'error', error: expect.stringMatching(/more than 1 fragments/) });
  });

  it('LocalParser: earlier fragments are parse_failed with reason afl_fragment, the last one gives the reading', async () => {
    const p = new LocalParser();
    const [a, b] = fragments();
    const req = { ingestId: 'x', header: null, mappings: { mappings: [] }, finalAttempt: true, keyHex: KEY7 };
    const held = await p.parse({ ...req, rawHex: a }).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(ParseError);
    expect(held).toMatchObject({ code: 'parse_failed', reason: 'afl_fragment', message: expect.stringMatching(/^afl_fragment: fragment 1 .* held/) });
    const reading = await p.parse({ ...req, rawHex: b });
    const whole = await new LocalParser().parse({ ...req, rawHex: MODE7 });
    expect(reading.authenticated).toBe(true);
    expect(reading.values).toEqual(whole.values);
    expect(reading.values.length).toBeGreaterThan(0);
  });
});

/**
 * AFL fragmentation (EN 13757-7:2018 clause 6, OMS Vol. 2): a long message is sent as several
 * telegrams, each with its own link layer and AFL. FCL bits 7–0 are the fragment ID (0 = not
 * fragmented, 1 = first, +1 per fragment, never rolling over), bit 14 (MF) says more fragments
 * follow, bits 13–9 say which message fields (MCL, ML, MCR, MAC, KI) this fragment carries. The
 * message is the fragments' payloads after their AFLs, in FID order, with the message fields of
 * whichever fragment carried them; the AFL MAC covers the whole message, so it checks only on the
 * reassembled telegram. Pure: the caller keeps the fragments (src/parser/local/fragment-buffer.ts).
 */
import { parseAfl, type Afl } from './afl.js';
import { parseEll } from './ell.js';
import { detectFrame } from './frame.js';
import { hex, MAX_INPUT_BYTES, toBytes } from './hex.js';
import { isAflCi, isEllCi } from './transport.js';

const FCL_MF = 0x4000;
const FCL_MCLP = 0x2000;
const FCL_MLP = 0x1000;
const FCL_MCRP = 0x0800;
const FCL_MACP = 0x0400;
const FCL_KIP = 0x0200;
/** The link layer: L C M(2) A(6). */
const DLL_LENGTH = 10;

/** One received fragment of a fragmented message. */
export interface AflFragment {
  /** Sender: manufacturer + address of the link layer, hex; fragments of one message share it. */
  sender: string;
  fid: number;
  more: boolean;
  /** Link layer and any ELL before the AFL (CRCs removed). */
  head: Uint8Array;
  afl: Afl;
  /** What follows the AFL: this fragment's part of the message. */
  part: Uint8Array;
}

/**
 * The fragment in a telegram, or null when the telegram is not an AFL fragment (no AFL, FID 0, an
 * encrypted ELL in front, or bytes that do not parse). Never throws.
 */
export function readFragment(input: string | Uint8Array): AflFragment | null {
  let d: Uint8Array;
  try {
    const frame = detectFrame(toBytes(input));
    if (frame.layout !== 'dll') return null;
    d = frame.data;
  } catch {
    return null;
  }
  let pos = DLL_LENGTH;
  if (isEllCi(d[pos] ?? 0)) {
    const ell = parseEll(d, pos, d.length);
    // An encrypted ELL hides the AFL; each fragment would need its own decryption first.
    if (typeof ell === 'string' || ell.enc !== 0) return null;
    pos = ell.next;
  }
  if (!isAflCi(d[pos] ?? 0)) return null;
  const afl = parseAfl(d, pos, d.length);
  if (typeof afl === 'string' || (afl.fcl & 0xff) === 0) return null;
  return {
    sender: hex(d, 2, DLL_LENGTH),
    fid: afl.fcl & 0xff,
    more: (afl.fcl & FCL_MF) !== 0,
    head: d.subarray(0, pos),
    afl,
    part: d.subarray(afl.next),
  };
}

/** True when FIDs 1…n are all there and only the last says "no more fragments". */
export function isComplete(fragments: readonly AflFragment[]): boolean {
  const sorted = [...fragments].sort((a, b) => a.fid - b.fid);
  return sorted.length > 0 && sorted.every((f, i) => f.fid === i + 1 && f.more === (i < sorted.length - 1));
}

/**
 * Joins the fragments of one message into one unfragmented telegram (hex, no link-layer CRCs):
 * the first fragment's link layer and ELL, one AFL with FID 0 and the message fields, the parts in
 * FID order. Fragments behind an encrypted ELL are not read (readFragment returns null for them). An error text when the fragments are not one complete message.
 */
export function reassembleAfl(fragments: readonly AflFragment[]): { hex: string } | { error: string } {
  if (!isComplete(fragments)) return { error: 'the fragments are not a complete message (FID 1…n, the last without MF)' };
  const sorted = [...fragments].sort((a, b) => a.fid - b.fid);
  const first = sorted[0]!;
  if (sorted.some((f) => f.sender !== first.sender)) return { error: 'the fragments come from different senders' };
  const fields: { mcl?: number; ki?: number; mcr?: Uint8Array; mac?: Uint8Array; ml?: number } = {};
  for (const f of sorted) {
    for (const k of ['mcl', 'ki', 'ml'] as const) {
      const v = f.afl[k];
      if (v === undefined) continue;
      if (fields[k] !== undefined && fields[k] !== v) return { error: `the fragments disagree on AFL.${k.toUpperCase()}` };
      fields[k] = v;
    }
    for (const k of ['mcr', 'mac'] as const) {
      const v = f.afl[k];
      if (v === undefined) continue;
      const had = fields[k];
      if (had !== undefined && hex(had) !== hex(v)) return { error: `the fragments disagree on AFL.${k.toUpperCase()}` };
      fields[k] = v;
    }
  }
  // The AFL fields in their order (clause 6.3.1): FCL, MCL, KI, MCR, MAC, ML.
  let fcl = 0;
  const aflFields: number[] = [];
  if (fields.mcl !== undefined) { fcl |= FCL_MCLP; aflFields.push(fields.mcl); }
  if (fields.ki !== undefined) { fcl |= FCL_KIP; aflFields.push(fields.ki & 0xff, fields.ki >> 8); }
  if (fields.mcr !== undefined) { fcl |= FCL_MCRP; aflFields.push(...fields.mcr); }
  if (fields.mac !== undefined) { fcl |= FCL_MACP; aflFields.push(...fields.mac); }
  if (fields.ml !== undefined) { fcl |= FCL_MLP; aflFields.push(fields.ml & 0xff, fields.ml >> 8); }
  const partsLength = sorted.reduce((n, f) => n + f.part.length, 0);
  const total = first.head.length + 4 + aflFields.length + partsLength;
  if (total > MAX_INPUT_BYTES) return { error: `the reassembled message has ${total} bytes, more than the decoder takes (${MAX_INPUT_BYTES})` };
  const out = new Uint8Array(total);
  out.set(first.head, 0);
  // A message longer than one L-field can say (the reason to fragment) gets L = FF: the decoder
  // reads a mismatching L-field leniently, with a warning, and decodes every byte.
  out[0] = Math.min(total - 1, 0xff);
  let p = first.head.length;
  out.set([0x90, 2 + aflFields.length, fcl & 0xff, fcl >> 8, ...aflFields], p);
  p += 4 + aflFields.length;
  for (const f of sorted) {
    out.set(f.part, p);
    p += f.part.length;
  }
  return { hex: hex(out) };
}

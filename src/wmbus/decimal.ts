/**
 * Exact decimal scaling for ValueString: a raw integer (or the shortest decimal of a float)
 * times factor × 10^exp10, done on digit strings so 2850427 × 10^-2 gives "28504.27",
 * never "28504.270000000004".
 */

/** Multiplies a signed integer string by a small integer factor. */
export function mulIntString(intStr: string, factor: number): string {
  if (factor === 1) return intStr;
  const n = Number(intStr);
  if (Number.isSafeInteger(n) && Number.isSafeInteger(n * factor) && Math.abs(n * factor) < 2 ** 52) {
    return String(n * factor);
  }
  return (BigInt(intStr) * BigInt(factor)).toString();
}

/** `digits` × 10^exp10 as plain decimal text; `digits` is a signed integer string like "-123". */
export function shiftDecimal(intStr: string, exp10: number): string {
  let neg = false;
  let d = intStr;
  if (d.charCodeAt(0) === 0x2d) {
    neg = true;
    d = d.slice(1);
  }
  let i = 0;
  while (i < d.length - 1 && d.charCodeAt(i) === 0x30) i++;
  if (i > 0) d = d.slice(i);
  if (d === '0') return '0';
  let out: string;
  if (exp10 >= 0) {
    out = d + '0'.repeat(exp10);
  } else {
    const k = -exp10;
    if (d.length <= k) d = '0'.repeat(k - d.length + 1) + d;
    let intPart = d.slice(0, d.length - k);
    let frac = d.slice(d.length - k);
    let end = frac.length;
    while (end > 0 && frac.charCodeAt(end - 1) === 0x30) end--;
    frac = frac.slice(0, end);
    if (intPart === '') intPart = '0';
    out = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  }
  return neg ? `-${out}` : out;
}

/** Splits a JS number string (maybe with exponent) into an integer digit string and a power of ten. */
export function parseDecimal(s: string): { int: string; exp10: number } {
  let mant = s;
  let exp = 0;
  const e = s.indexOf('e');
  if (e >= 0) {
    mant = s.slice(0, e);
    exp = Number(s.slice(e + 1));
  }
  const dot = mant.indexOf('.');
  if (dot >= 0) {
    exp -= mant.length - dot - 1;
    mant = mant.slice(0, dot) + mant.slice(dot + 1);
  }
  return { int: mant, exp10: exp };
}

/** Shortest decimal text that reads back to the same float32 (IEEE-754 single, data type H). */
export function float32ToString(f: number): string {
  if (!Number.isFinite(f)) return String(f);
  if (f === 0) return '0';
  for (let p = 1; p < 10; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/** Scales an exact signed integer string: value × factor × 10^exp10 → decimal text. */
export function scaleInt(intStr: string, factor: number, exp10: number): string {
  return shiftDecimal(mulIntString(intStr, factor), exp10);
}

/** Scales a decimal text (e.g. from a float) exactly. */
export function scaleDecimalText(text: string, factor: number, exp10: number): string {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  const p = parseDecimal(text);
  return shiftDecimal(mulIntString(p.int, factor), p.exp10 + exp10);
}

/** Adds two decimal texts exactly (additive-correction VIFEs, EN 13757-3 Table 15 78–7B). */
export function addDecimalText(a: string, b: string): string {
  const pa = parseDecimal(a);
  const pb = parseDecimal(b);
  const e = Math.min(pa.exp10, pb.exp10);
  const ma = BigInt(pa.int) * 10n ** BigInt(pa.exp10 - e);
  const mb = BigInt(pb.int) * 10n ** BigInt(pb.exp10 - e);
  return shiftDecimal((ma + mb).toString(), e);
}

/**
 * Telegrams for load: one unencrypted (security mode 0) Sensus water-meter
 * frame, 1844ae4c4455223368077a55000000 | 0413 <volume, 4 bytes LE> | 023b0000.
 * A counter goes into the 4 volume bytes, so every raw_hex is distinct (the
 * bridge de-duplicates on gateway_id + raw_hex) and the frame keeps its length,
 * so the built-in decoder still gives a reading. (Appending a suffix to the
 * frame would also defeat dedup, but the decoder then reads the frame as one
 * with CRCs and publishes an error instead of a reading.)
 */
const HEAD = '1844ae4c4455223368077a550000000413';
const TAIL = '023b0000';

export const METER_ID = '33225544';

/** The telegram with `n` (mod 2^32) in the volume record. */
export function telegramHex(n: number): string {
  const v = n >>> 0;
  const le = ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
  return `${HEAD}${le.toString(16).padStart(8, '0')}${TAIL}`;
}

/** Request bodies with a running counter; one source per bridge database keeps raw_hex unique. */
export class TelegramSource {
  private n: number;
  constructor(start = 0) {
    this.n = start;
  }

  body(gatewayId: string): string {
    return `{"gateway_id":"${gatewayId}","raw_hex":"${telegramHex(this.n++)}","rssi_dbm":-80}`;
  }

  get count(): number {
    return this.n;
  }
}

import { BridgeError } from '../lib/errors.js';
import type { KeyVault } from '../security/key-vault.js';
import type { KeyProblems, MeterKeys } from '../store/roles.js';
import type { Job } from '../store/store.js';
import { decode, readFragment, type TelegramHeader, WmbusError } from '../wmbus/index.js';
import { ParseError } from './parser.js';

export type KeyPolicy = 'strict' | 'lenient';

/** What the parser gets for a job. */
export interface KeyDecision {
  /** The AES key, 32 hex digits; null = decode without a key. */
  keyHex: string | null;
  /** ACCEPT_PREDECRYPTED took a plaintext body under an encryption header: decode it as it is, unauthenticated. */
  predecrypted: boolean;
}

export interface KeyResolverOptions {
  policy: KeyPolicy;
  /** ACCEPT_PREDECRYPTED: take a plaintext body under an encryption header as lab data. Default false. */
  acceptPredecrypted?: boolean;
}

const NO_KEY: KeyDecision = Object.freeze({ keyHex: null, predecrypted: false });

/**
 * Finds the AES key for a job: the key sent with the telegram, else the key
 * store by meter id. Without one, `strict` fails the job with
 * decrypt_key_missing before any network call; `lenient` goes on without a key.
 * Telegrams whose header says they are not encrypted never need a key.
 *
 * A body that the header calls encrypted but that is visibly plain (2F2F, an
 * ELL CRC that checks) proves nothing — anyone can write it — so it needs a
 * key that decrypts it, under either policy, unless ACCEPT_PREDECRYPTED is set
 * (issue 10: a forged frame was published as a real reading).
 */
export class KeyResolver {
  private readonly policy: KeyPolicy;
  private readonly acceptPredecrypted: boolean;

  constructor(
    private readonly store: Pick<MeterKeys, 'getMeterKey'> & Pick<KeyProblems, 'recordKeyProblem'>,
    private readonly vault: KeyVault,
    opts: KeyResolverOptions | KeyPolicy,
  ) {
    const o = typeof opts === 'string' ? { policy: opts } : opts;
    this.policy = o.policy;
    this.acceptPredecrypted = o.acceptPredecrypted === true;
  }

  async resolve(job: Job, header: TelegramHeader | null): Promise<KeyDecision> {
    const meterId = job.meterId ?? header?.meterId ?? null;
    if (header && !header.encrypted) {
      // A later AFL fragment carries no TPL: whether its message is encrypted shows only once it is
      // reassembled, so it gets the meter's key when there is one, and is never "missing" one.
      if (!mayBeFragment(header, job.rawHex)) return NO_KEY;
      const keyHex = await this.findKey(job, meterId);
      return keyHex === null ? NO_KEY : { keyHex, predecrypted: false };
    }
    const keyHex = await this.findKey(job, meterId);
    if (header?.alreadyDecrypted) return this.plainBody(job, header, meterId, keyHex);
    if (keyHex !== null) return { keyHex, predecrypted: false };
    await this.noteMissing(job, header, meterId);
    // An unreadable header gives no proof that a key is needed; let the parser decide.
    if (this.policy === 'strict' && header) throw keyMissing(meterId, header);
    return NO_KEY;
  }

  private async findKey(job: Job, meterId: string | null): Promise<string | null> {
    if (job.keyHex) return this.open(job.keyHex, job.ingestId);
    const stored = meterId ? await this.store.getMeterKey(meterId) : undefined;
    return stored && meterId ? this.open(stored, meterId) : null;
  }

  /** A sealed key that does not open is this telegram's outcome, not a database outage to retry every second forever. */
  private open(stored: string, owner: string): string {
    try {
      return this.vault.open(stored, owner);
    } catch (err) {
      if (!(err instanceof BridgeError) || err.code !== 'key_vault_mismatch') throw err;
      throw new ParseError('decrypt_failed', 'the stored AES key does not open with KEY_ENCRYPTION_SECRET for this meter (damaged, or copied from another meter); store the key again and replay', { cause: err });
    }
  }

  private async plainBody(job: Job, header: TelegramHeader, meterId: string | null, keyHex: string | null): Promise<KeyDecision> {
    // Real ciphertext starts with 2F2F by chance once in 65,536 telegrams: the key settles it.
    if (keyHex !== null && decryptsWith(job.rawHex, keyHex)) return { keyHex, predecrypted: false };
    if (this.acceptPredecrypted) return { keyHex: null, predecrypted: true };
    if (keyHex !== null) {
      throw new ParseError('decrypt_failed', 'unexpected_plaintext: the header says encrypted, the body is plaintext the meter\'s key did not produce; refused as possibly forged (ACCEPT_PREDECRYPTED is off)', { reason: 'unexpected_plaintext' });
    }
    await this.noteMissing(job, header, meterId);
    throw keyMissing(meterId, header);
  }

  /** Feeds GET /v1/admin/key-problems (and /v1/admin/meters?status=key_missing). */
  private async noteMissing(job: Job, header: TelegramHeader | null, meterId: string | null): Promise<void> {
    if (!meterId || !header) return;
    await this.store.recordKeyProblem({
      meterId, manufacturer: job.manufacturer ?? header.manufacturer, gatewayId: job.gatewayId, problem: 'key_missing',
      detail: `the telegram is encrypted (security mode ${header.ellEncrypted ? 'ELL' : header.securityMode}) and no AES key is configured`, now: Date.now(),
    });
  }
}

function keyMissing(meterId: string | null, header: TelegramHeader): ParseError {
  return new ParseError('decrypt_key_missing', `no AES key for meter ${meterId ?? 'unknown'}; the telegram is encrypted (security mode ${header.ellEncrypted ? 'ELL' : header.securityMode})`);
}

function mayBeFragment(header: TelegramHeader, rawHex: string): boolean {
  const ci = header.ciField;
  return (ci === 0x90 || (ci >= 0x8c && ci <= 0x8f)) && readFragment(rawHex) !== null;
}

/** True when the key turns the body into a payload that checks (the built-in decoder, whatever parser runs). */
function decryptsWith(rawHex: string, keyHex: string): boolean {
  try {
    return decode(rawHex, { key: keyHex }).Authenticated;
  } catch (err) {
    if (err instanceof WmbusError) return false;
    throw err;
  }
}

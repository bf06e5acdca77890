import type { KeyVault } from '../security/key-vault.js';
import type { Job, TelegramStore } from '../store/store.js';
import type { TelegramHeader } from '../wmbus/index.js';
import { ParseError } from './parser.js';

export type KeyPolicy = 'strict' | 'lenient';

/**
 * Finds the AES key for a job: the key sent with the telegram, else the key
 * store by meter id. Without one, `strict` fails the job with
 * decrypt_key_missing before any network call; `lenient` goes on without a key.
 * Telegrams whose header says they are not encrypted never need a key.
 */
export class KeyResolver {
  constructor(
    private readonly store: Pick<TelegramStore, 'getMeterKey' | 'recordKeyMissing'>,
    private readonly vault: KeyVault,
    private readonly policy: KeyPolicy,
  ) {}

  async resolve(job: Job, header: TelegramHeader | null): Promise<string | null> {
    if (header && !header.needsKey) return null;
    if (job.keyHex) return this.vault.open(job.keyHex, job.ingestId);
    const meterId = job.meterId ?? header?.meterId ?? null;
    const stored = meterId ? await this.store.getMeterKey(meterId) : undefined;
    if (stored && meterId) return this.vault.open(stored, meterId);
    // Feeds GET /v1/admin/meters?status=key_missing.
    if (meterId && header) await this.store.recordKeyMissing(meterId, job.manufacturer ?? header.manufacturer, job.gatewayId, Date.now());
    // An unreadable header gives no proof that a key is needed; let the parser decide.
    if (this.policy === 'strict' && header) {
      throw new ParseError('decrypt_key_missing', `no AES key for meter ${meterId ?? 'unknown'}; the telegram is encrypted (security mode ${header.ellEncrypted ? 'ELL' : header.securityMode})`);
    }
    return null;
  }
}

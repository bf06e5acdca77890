import type { Logger } from '../observability/logger.js';
import type { AuditLog, MeterKeys } from '../store/roles.js';
import type { MeterKeyRecord } from '../store/store.js';
import { keyId } from './key-id.js';
import { KeyVault } from './key-vault.js';

type KeyStore = Pick<MeterKeys, 'putMeterKey' | 'deleteMeterKey' | 'listMeterKeys'> & Pick<AuditLog, 'insertAudit'>;

export interface KeyToStore {
  meterId: string;
  /** 32 hex digits, any case. */
  keyHex: string;
  manufacturer: string | null;
}

/**
 * The one way a meter key reaches the database: sealed by the vault (bound to
 * its meter id), stored, and audited with its key_id — never the key. The
 * admin routes, the boot-time re-seal and the ingest path (a key sent with a
 * telegram) all go through here, so no caller can store a plain key by accident.
 */
export class MeterKeyService {
  constructor(
    private readonly store: KeyStore,
    private readonly vault: KeyVault,
  ) {}

  /** Seals, stores and audits one key; returns its key_id and the time it was stored. */
  async put(k: KeyToStore, actor: string, now = Date.now()): Promise<{ keyId: string; updatedAt: number }> {
    const key = k.keyHex.toUpperCase();
    await this.store.putMeterKey(k.meterId, this.vault.seal(key, k.meterId), k.manufacturer, now);
    const id = keyId(key);
    await this.audit(actor, 'key.put', k.meterId, { key_id: id }, now);
    return { keyId: id, updatedAt: now };
  }

  /** Bulk import: each row stored on its own, so a bad row never stops good ones; the caller audits the batch. */
  async importKeys(rows: KeyToStore[], log: Pick<Logger, 'error'>, now = Date.now()): Promise<Array<{ meterId: string; ok: boolean }>> {
    const results: Array<{ meterId: string; ok: boolean }> = [];
    for (const k of rows) {
      try {
        await this.store.putMeterKey(k.meterId, this.vault.seal(k.keyHex.toUpperCase(), k.meterId), k.manufacturer, now);
        results.push({ meterId: k.meterId, ok: true });
      } catch (err) {
        log.error({ err, meterId: k.meterId }, 'storing an imported key failed');
        results.push({ meterId: k.meterId, ok: false });
      }
    }
    return results;
  }

  async delete(meterId: string, actor: string): Promise<boolean> {
    if (!(await this.store.deleteMeterKey(meterId))) return false;
    await this.audit(actor, 'key.delete', meterId, null);
    return true;
  }

  /** The key_id of a stored record (opens it in memory only). */
  keyIdOf(record: MeterKeyRecord): string {
    return keyId(this.vault.open(record.keyHex, record.meterId));
  }

  /** The plain key of a stored record, for a decode in this process (the admin inspector); never for an answer. */
  openKey(record: MeterKeyRecord): string {
    return this.vault.open(record.keyHex, record.meterId);
  }

  /** A key sent with one telegram, sealed to that telegram's ingest id; it is deleted when the job is final. */
  sealInline(ingestId: string, keyHex: string): string {
    return this.vault.seal(keyHex.toUpperCase(), ingestId);
  }

  /**
   * At boot: keys stored before KEY_ENCRYPTION_SECRET was set, and keys sealed
   * in the v1 format (no meter binding), are sealed again in the current format.
   * Returns how many.
   */
  async sealAtRest(log: Pick<Logger, 'warn'>): Promise<number> {
    if (!this.vault.encrypting) return 0;
    let cursor: string | null = null;
    let sealed = 0;
    do {
      const page = await this.store.listMeterKeys(1000, cursor);
      for (const k of page.items) {
        if (KeyVault.isCurrent(k.keyHex)) continue;
        let plain: string;
        try {
          plain = this.vault.open(k.keyHex, k.meterId);
        } catch (err) {
          // One damaged value must not keep the bridge from starting; jobs of that meter report it.
          log.warn({ err, meterId: k.meterId }, 'a stored key does not open; left as it is');
          continue;
        }
        await this.store.putMeterKey(k.meterId, this.vault.seal(plain, k.meterId), k.manufacturer, k.updatedAt);
        sealed += 1;
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (sealed > 0) await this.audit('system', 'keys.sealed', null, { sealed }, Date.now());
    return sealed;
  }

  audit(actor: string, action: string, target: string | null, details: Record<string, unknown> | null, at = Date.now()): Promise<void> {
    return this.store.insertAudit({ at, action, target, actor, details });
  }
}

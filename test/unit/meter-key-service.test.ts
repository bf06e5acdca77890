import { describe, expect, it, vi } from 'vitest';
import { KeyVault } from '../../src/security/key-vault.js';
import { MeterKeyService } from '../../src/security/meter-key-service.js';
import type { AuditRecord, MeterKeyRecord } from '../../src/store/store.js';

const KEY = '0102030405060708090a0b0c0d0e0f11';
const KEY_ID = '6CDF4E13B88E3B890A803C4EECF8B89D60916C2E4E3C5CB32818F06A56BB60B5';

function memoryStore() {
  const keys = new Map<string, MeterKeyRecord>();
  const audit: Array<Omit<AuditRecord, 'id'>> = [];
  return {
    keys, audit,
    putMeterKey: async (meterId: string, keyHex: string, manufacturer: string | null, now: number) => void keys.set(meterId, { meterId, keyHex, manufacturer, updatedAt: now }),
    deleteMeterKey: async (meterId: string) => keys.delete(meterId),
    listMeterKeys: async () => ({ items: [...keys.values()], nextCursor: null }),
    insertAudit: async (r: Omit<AuditRecord, 'id'>) => void audit.push(r),
  };
}

describe('MeterKeyService (issue 10)', () => {
  const vault = KeyVault.fromSecret('a-long-key-encryption-secret-for-tests', Buffer.alloc(16, 1));

  it('seals (bound to the meter), stores and audits with the key_id, never the key', async () => {
    const store = memoryStore();
    const svc = new MeterKeyService(store, vault);
    expect(await svc.put({ meterId: 'm1', keyHex: KEY, manufacturer: 'ELS' }, 'actor1', 5)).toEqual({ keyId: KEY_ID, updatedAt: 5 });
    const stored = store.keys.get('m1')!;
    expect(stored.keyHex.startsWith('enc:v2:')).toBe(true);
    expect(vault.open(stored.keyHex, 'm1')).toBe(KEY.toUpperCase());
    expect(() => vault.open(stored.keyHex, 'm2')).toThrow();
    expect(svc.keyIdOf(stored)).toBe(KEY_ID);
    expect(store.audit).toEqual([{ at: 5, action: 'key.put', target: 'm1', actor: 'actor1', details: { key_id: KEY_ID } }]);
    expect(JSON.stringify(store.audit).toLowerCase()).not.toContain(KEY);
    expect(await svc.delete('m1', 'actor1')).toBe(true);
    expect(await svc.delete('m1', 'actor1')).toBe(false);
    expect(store.audit.map((a) => a.action)).toEqual(['key.put', 'key.delete']);
  });

  it('seals a key sent with a telegram to its ingest id', () => {
    const svc = new MeterKeyService(memoryStore(), vault);
    const sealed = svc.sealInline('ing-1', KEY);
    expect(vault.open(sealed, 'ing-1')).toBe(KEY.toUpperCase());
    expect(() => vault.open(sealed, 'ing-2')).toThrow();
  });

  it('at boot re-seals plain values, skips current ones, and leaves a damaged one without failing', async () => {
    const store = memoryStore();
    const svc = new MeterKeyService(store, vault);
    await store.putMeterKey('plain', KEY, null, 1);
    await store.putMeterKey('current', vault.seal(KEY, 'current'), null, 2);
    const current = store.keys.get('current')!.keyHex;
    await store.putMeterKey('damaged', 'enc:v1:AAAA:AAAA:AAAAAAAAAAAAAAAAAAAAAA==', null, 3);
    const warn = vi.fn();
    expect(await svc.sealAtRest({ warn })).toBe(1);
    expect(vault.open(store.keys.get('plain')!.keyHex, 'plain')).toBe(KEY);
    expect(store.keys.get('current')!.keyHex).toBe(current);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(store.audit.map((a) => [a.action, a.details])).toEqual([['keys.sealed', { sealed: 1 }]]);
  });
});

import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyVault } from '../../src/security/key-vault.js';
import { OMS_EXAMPLE, OMS_KEY, post, startTestApp } from '../helpers/app.js';
import { startTestBroker } from '../helpers/mqtt.js';

const ADMIN = 'admin-token-for-tests-0001';
const SECRET = 'a-long-key-encryption-secret-for-tests';
const OMS_KEY_ID = '6CDF4E13B88E3B890A803C4EECF8B89D60916C2E4E3C5CB32818F06A56BB60B5';

/** The previous release's format: enc:v1:, AES-256-GCM without associated data. */
function sealV1(vault: KeyVault, plain: string): string {
  const key = (vault as unknown as { key: Buffer }).key;
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `enc:v1:${nonce.toString('base64')}:${ct.toString('base64')}:${cipher.getAuthTag().toString('base64')}`;
}

describe('a database written by the previous release (v1 sealed keys)', () => {
  it('opens, re-seals its keys bound to their meter at boot, and they keep decrypting', async () => {
    const broker = await startTestBroker();
    const old = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, KEY_ENCRYPTION_SECRET: SECRET, PARSER: 'local' });
    const salt = Buffer.from((await old.app.store.getSetting('key_vault_salt'))!, 'base64');
    const v1 = sealV1(KeyVault.fromSecret(SECRET, salt), OMS_KEY);
    // Written as the previous release did, straight into the table.
    await old.app.store.putMeterKey('12345678', v1, 'ELS', Date.now());
    await old.app.stop();
    const upgraded = await startTestApp({ MQTT_URL: broker.url, ADMIN_TOKEN: ADMIN, KEY_ENCRYPTION_SECRET: SECRET, PARSER: 'local' }, { dir: old.dir });
    try {
      const stored = await upgraded.app.store.getMeterKey('12345678');
      expect(stored?.startsWith('enc:v2:')).toBe(true);
      const key = await upgraded.app.http.inject({ method: 'GET', url: '/v1/admin/keys/12345678', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(key.json().key_id).toBe(OMS_KEY_ID);
      const res = await post(upgraded.app, { gateway_id: upgraded.gatewayId, raw_hex: OMS_EXAMPLE }, { query: '?sync=true' });
      expect(JSON.stringify(res.json.values)).toContain('28504.27');
      const audit = await upgraded.app.store.listAudit(10, null);
      expect(audit.items.map((a) => a.action)).toContain('keys.sealed');
      expect(JSON.stringify(audit.items)).not.toContain(OMS_KEY);
      // Moved to another meter's row, the sealed value no longer opens.
      await upgraded.app.store.putMeterKey('87654321', stored!, 'ELS', Date.now());
      const moved = await upgraded.app.http.inject({ method: 'GET', url: '/v1/admin/keys/87654321', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(moved.statusCode).toBe(500);
      expect(moved.body).not.toContain(OMS_KEY);
    } finally {
      await upgraded.stop();
      await old.stop();
      await broker.stop();
    }
  });
});

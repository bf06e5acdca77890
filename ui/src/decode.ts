import { currentToken } from './auth';
import { ApiError } from './client';
import type { Decoded, Layer, RecordLayout } from './components/hex-view';

/** POST /v1/admin/decode: decoded locally by the bridge, nothing stored, the key never echoed. */
export async function decode(hex: string, key?: string): Promise<Decoded> {
  const clean = hex.replace(/[\s:-]/g, '');
  const res = await fetch('/v1/admin/decode', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${currentToken() ?? ''}` },
    body: JSON.stringify({ hex: clean, ...(key ? { key: key.replace(/\s+/g, '') } : {}) }),
  });
  const body = await res.json() as {
    layers?: Layer[]; records?: RecordLayout[]; security_mode?: string; diagnosis?: Decoded['diagnosis']; key_diagnosis?: Decoded['diagnosis'];
    error?: { code: string; message: string };
  };
  if (!res.ok) throw new ApiError(res.status, body.error?.code ?? `http_${res.status}`, body.error?.message ?? res.statusText);
  return {
    hex: clean,
    layers: body.layers ?? [],
    records: body.records ?? [],
    securityMode: body.security_mode ?? null,
    diagnosis: body.diagnosis ?? body.key_diagnosis ?? null,
    error: body.error ?? null,
  };
}

import { useState } from 'preact/hooks';
import type { Ok } from '../client';
import { num } from '../format';
import { TableBox } from './bits';

/** POST /v1/admin/decode's answer: offsets in `layers` and `records` refer to the bytes of `hex`. */
export type Decoded = Ok<'/v1/admin/decode', 'post'>;
type Layer = Decoded['layers'][number];

const LAYER_TEXT: Record<string, string> = {
  dll: 'Link layer (DLL)', ell: 'Extended link layer (ELL)', afl: 'Authentication & fragmentation (AFL)', nwl: 'Network layer',
  tpl: 'Transport layer (TPL)', records: 'Records (DIF/VIF)', compact: 'Compact frame', format: 'Format signature',
  encrypted: 'Encrypted (not decrypted)', mfct: 'Manufacturer data', payload: 'Application payload', unknown: 'Not understood',
};

const layerOf = (layers: Layer[], i: number) => layers.find((l) => i >= l.start && i < l.end)?.name ?? 'other';

function security(d: Decoded): string {
  const sec = d.security;
  if (!sec) return '—';
  if (!sec.encrypted) return `${sec.mode_name} (not encrypted)`;
  const state = sec.authenticated ? 'decrypted and authenticated' : sec.decrypted ? 'decrypted' : 'not decrypted';
  return `${sec.mode_name}, ${state}${sec.mac_valid === false ? ', MAC invalid' : ''}${sec.default_key_used ? ' (published default key)' : ''}`;
}

/**
 * The telegram byte by byte, coloured by layer; each record row highlights its bytes when hovered
 * or focused. Colours come with a legend and the layer name in each byte's title.
 */
export function HexView({ decoded }: { decoded: Decoded }) {
  const [focus, setFocus] = useState<{ start: number; end: number }>();
  const shown = decoded.plain_hex ?? decoded.hex ?? '';
  const bytes = shown.match(/../g) ?? [];
  const names = [...new Set(decoded.layers.map((l) => l.name))];
  const m = decoded.meter;
  return (
    <div class="inspector">
      <dl class="facts">
        <div><dt>Meter</dt><dd>{m ? `${m.id} · ${m.manufacturer} (${m.manufacturer_name}) · ${m.type} · v${m.version}` : '—'}</dd></div>
        <div><dt>Length</dt><dd>{bytes.length} bytes{decoded.crc_removed ? ' (link-layer CRCs removed)' : ''}</dd></div>
        <div><dt>Security</dt><dd>{security(decoded)}</dd></div>
        <div><dt>Driver</dt><dd>{decoded.driver ?? '—'}</dd></div>
        {decoded.key_diagnosis && (
          <div class="wide"><dt>Why decryption failed</dt><dd><strong>{decoded.key_diagnosis.problem.replaceAll('_', ' ')}</strong>: {decoded.key_diagnosis.detail}</dd></div>
        )}
        {decoded.error && <div class="wide"><dt>Decoder refused it</dt><dd><code>{decoded.error.code}</code> {decoded.error.message}</dd></div>}
        {decoded.warnings.length > 0 && <div class="wide"><dt>Warnings</dt><dd>{decoded.warnings.join('; ')}</dd></div>}
      </dl>
      {bytes.length > 0 && (
        <>
          <h3>Bytes{decoded.plain_hex ? ' (decrypted in place)' : ''}</h3>
          <ul class="legend" aria-label="Layers">
            {names.map((n) => <li key={n}><i class={`layer-${n}`} />{LAYER_TEXT[n] ?? n}</li>)}
          </ul>
          <figure class="hex">
            <figcaption class="sr-only">Telegram bytes, coloured by layer</figcaption>
            {bytes.map((b, i) => {
              const layer = layerOf(decoded.layers, i);
              const hot = focus && i >= focus.start && i < focus.end;
              return (
                <span key={i} class={`byte layer-${layer}${hot ? ' hot' : ''}`} title={`byte ${i}: ${LAYER_TEXT[layer] ?? layer}`}>{b.toUpperCase()}</span>
              );
            })}
          </figure>
        </>
      )}
      {decoded.records.length > 0 && (
        <TableBox label="Records">
          <table class="records">
            <caption>Records (hover or focus a row to see its bytes)</caption>
            <thead>
              <tr><th scope="col">Bytes</th><th scope="col">DIF</th><th scope="col">VIF</th><th scope="col">Meaning</th><th scope="col" class="n">Value</th><th scope="col">Unit</th><th scope="col" class="n">Storage</th><th scope="col" class="n">Tariff</th></tr>
            </thead>
            <tbody>
              {decoded.records.map((r) => (
                <tr key={r.start} tabIndex={0} onMouseEnter={() => setFocus(r)} onMouseLeave={() => setFocus(undefined)}
                  onFocus={() => setFocus(r)} onBlur={() => setFocus(undefined)}>
                  <td>{r.start}–{r.end - 1}</td>
                  <td><code>{r.dif}</code></td>
                  <td><code>{r.vif}</code></td>
                  <td>{r.description}</td>
                  <td class="n">{num(r.value)}</td>
                  <td>{r.unit}</td>
                  <td class="n">{r.storage}</td>
                  <td class="n">{r.tariff}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      {decoded.records.length === 0 && decoded.values.length > 0 && (
        <ul>{decoded.values.map((v) => <li key={`${v.name}-${v.storage ?? 0}-${v.tariff ?? 0}`}>{v.name}: {num(v.value)} {v.unit}</li>)}</ul>
      )}
    </div>
  );
}

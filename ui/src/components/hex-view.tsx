import { useState } from 'preact/hooks';
import { num } from '../format';
import { TableBox } from './bits';

export interface Layer {
  name: string;
  /** Byte offsets into the frame, end exclusive. */
  start: number;
  end: number;
}

export interface RecordLayout {
  start: number;
  end: number;
  dif: string;
  vif: string;
  description: string;
  value: unknown;
  unit: string | null;
  storage?: number | null;
  tariff?: number | null;
}

export interface Decoded {
  hex: string;
  layers: Layer[];
  records: RecordLayout[];
  securityMode: string | null;
  diagnosis: { problem: string; detail: string } | null;
  error: { code: string; message: string } | null;
}

const LAYER_TEXT: Record<string, string> = {
  dll: 'Link layer (DLL)', ell: 'Extended link layer (ELL)', afl: 'Authentication & fragmentation (AFL)',
  tpl: 'Transport layer (TPL)', records: 'Records', mfct: 'Manufacturer data', crc: 'CRC', encrypted: 'Encrypted',
};

const layerOf = (layers: Layer[], i: number) => layers.find((l) => i >= l.start && i < l.end)?.name ?? 'other';

/**
 * The telegram byte by byte, coloured by layer; each record row highlights its bytes when hovered
 * or focused. Colours come with a legend and the layer name in each byte's title.
 */
export function HexView({ decoded }: { decoded: Decoded }) {
  const [focus, setFocus] = useState<{ start: number; end: number }>();
  const bytes = decoded.hex.match(/../g) ?? [];
  const names = [...new Set(decoded.layers.map((l) => l.name))];
  return (
    <div class="inspector">
      <dl class="facts">
        <div><dt>Length</dt><dd>{bytes.length} bytes</dd></div>
        <div><dt>Security mode</dt><dd>{decoded.securityMode ?? '—'}</dd></div>
        {decoded.diagnosis && <div><dt>Decryption</dt><dd><strong>{decoded.diagnosis.problem.replaceAll('_', ' ')}</strong>: {decoded.diagnosis.detail}</dd></div>}
        {decoded.error && <div><dt>Decoder</dt><dd><code>{decoded.error.code}</code> {decoded.error.message}</dd></div>}
      </dl>
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
      {decoded.records.length > 0 && (
        <TableBox label="Records">
          <table class="records">
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
                  <td>{r.unit ?? ''}</td>
                  <td class="n">{r.storage ?? ''}</td>
                  <td class="n">{r.tariff ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </div>
  );
}

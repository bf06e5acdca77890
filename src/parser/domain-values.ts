import type { NormalizedValue } from '../publish/payloads.js';

/**
 * The normalized `values` of a Metering Domain Model (lobaro-api.md §3.3):
 * every field shaped `{value, unit?, date?}`. One function for Lobaro's model
 * and the locally mapped one, so both parsers publish the same list.
 */
export function valuesFromDomainModel(model: object): NormalizedValue[] {
  const out: NormalizedValue[] = [];
  for (const [name, v] of Object.entries(model)) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !('value' in v)) continue;
    const o = v as { value: unknown; unit?: unknown; date?: unknown };
    const item: NormalizedValue = {
      name,
      value: typeof o.value === 'number' || typeof o.value === 'string' ? o.value : null,
      unit: typeof o.unit === 'string' ? o.unit : '',
    };
    if (typeof o.date === 'string') item.date = o.date;
    out.push(item);
  }
  return out;
}

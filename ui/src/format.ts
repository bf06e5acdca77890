/** Short local date-time for tables; the full ISO text goes into the title attribute. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "3 min ago" style age. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function num(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toLocaleString(undefined, { maximumFractionDigits: 3 });
  if (v === null || v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export interface ValueItem {
  name: string;
  value: unknown;
  unit?: string;
  storage?: number;
}

/** The `values` list of a published reading, or [] for anything else. */
export function valuesOf(result: unknown): ValueItem[] {
  if (!result || typeof result !== 'object') return [];
  const values = (result as { values?: unknown }).values;
  if (!Array.isArray(values)) return [];
  return values.filter((v): v is ValueItem => !!v && typeof v === 'object' && typeof (v as ValueItem).name === 'string');
}

/** First current (not historic) numeric value of a list: the meter's "main" value (volume, energy, …) for charts. */
export function mainValue(values: ValueItem[]): ValueItem | undefined {
  return values.find((v) => typeof v.value === 'number' && !v.storage);
}

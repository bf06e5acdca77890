/** Drivers indexed by manufacturer, so a telegram no driver knows costs one Map lookup. Pure. */
import type { WmbusResult } from '../wmbus/types.js';
import type { DriverArea, DriverDefinition, DriverMatch } from './types.js';

export interface CompiledDriver {
  def: DriverDefinition;
  /** DIF…VIFE hex (upper case) of standard records the driver reinterprets. */
  hide: Set<string>;
  /** Where the definition came from ("builtin" or a file path). */
  origin: string;
}

function areaHex(r: WmbusResult, area: DriverArea): string {
  const h = area === 'apl' ? r.Body.Raw : area === 'mfct' ? (r.Body.ManufacturerData ?? '') : r.Raw;
  return (h.startsWith('0x') ? h.slice(2) : h).toUpperCase();
}

function ruleMatches(m: DriverMatch, r: WmbusResult): boolean {
  if (m.version !== undefined && !m.version.includes(r.Version)) return false;
  if (m.deviceType !== undefined && !m.deviceType.includes(Number.parseInt(r.Device, 16))) return false;
  if (m.ci !== undefined && !m.ci.includes(r.CiField.slice(2).toUpperCase())) return false;
  if (m.hasRecord !== undefined && !r.Body.DataRecords.some((x) => x.DifVif.slice(2).toUpperCase() === m.hasRecord)) return false;
  if (m.bytes !== undefined) {
    const h = areaHex(r, m.bytes.area);
    const at = (m.bytes.offset < 0 ? h.length / 2 + m.bytes.offset : m.bytes.offset) * 2;
    if (at < 0 || h.slice(at, at + m.bytes.hex.length) !== m.bytes.hex) return false;
  }
  return true;
}

/** Hex fields are compared upper case; the definitions are normalised once here. */
function normalise(def: DriverDefinition): DriverDefinition {
  const up = (s: string): string => s.toUpperCase();
  return {
    ...def,
    match: def.match.map((m) => ({
      ...m,
      manufacturer: up(m.manufacturer),
      ...(m.ci ? { ci: m.ci.map(up) } : {}),
      ...(m.hasRecord ? { hasRecord: up(m.hasRecord) } : {}),
      ...(m.bytes ? { bytes: { ...m.bytes, hex: up(m.bytes.hex) } } : {}),
    })),
    fields: def.fields.map((f) => f.record === undefined ? f : {
      ...f,
      record: { ...f.record, ...(f.record.difVif ? { difVif: up(f.record.difVif) } : {}), ...(f.record.vif ? { vif: up(f.record.vif) } : {}) },
    }),
  };
}

export class DriverRegistry {
  private readonly byManufacturer = new Map<string, CompiledDriver[]>();
  private readonly all: CompiledDriver[] = [];

  /** Later additions win over earlier ones for the same telegram (user drivers over built-in ones). */
  add(def: DriverDefinition, origin: string): void {
    const n = normalise(def);
    const c: CompiledDriver = { def: n, hide: new Set((n.hideRecords ?? []).map((h) => h.toUpperCase())), origin };
    const existing = this.all.findIndex((x) => x.def.id === n.id);
    if (existing >= 0) this.all.splice(existing, 1);
    this.all.push(c);
    for (const list of this.byManufacturer.values()) {
      const i = list.findIndex((x) => x.def.id === n.id);
      if (i >= 0) list.splice(i, 1);
    }
    for (const m of new Set(n.match.map((x) => x.manufacturer))) {
      const list = this.byManufacturer.get(m) ?? [];
      list.unshift(c);
      this.byManufacturer.set(m, list);
    }
  }

  list(): readonly CompiledDriver[] {
    return this.all;
  }

  get size(): number {
    return this.all.length;
  }

  find(r: WmbusResult): CompiledDriver | null {
    const list = this.byManufacturer.get(r.MFieldCodeString);
    if (list === undefined) return null;
    for (const d of list) {
      for (const m of d.def.match) {
        if (m.manufacturer === r.MFieldCodeString && ruleMatches(m, r)) return d;
      }
    }
    return null;
  }
}

/** Drivers indexed by manufacturer, so a telegram no driver knows costs one Map lookup. Pure. */
import type { WmbusResult } from '../wmbus/types.js';
import { Areas } from './interpreter.js';
import type { DriverDefinition, DriverMatch, DriverRecordSource } from './types.js';

export interface CompiledDriver {
  def: DriverDefinition;
  /** DIF…VIFE hex (upper case) of standard records the driver reinterprets. */
  hide: Set<string>;
  /** Where the definition came from ("builtin" or a file path). */
  origin: string;
}


function ruleMatches(m: DriverMatch, r: WmbusResult, areas: Areas): boolean {
  if (m.version !== undefined && !m.version.includes(r.Version)) return false;
  if (m.deviceType !== undefined && !m.deviceType.includes(Number.parseInt(r.Device, 16))) return false;
  if (m.ci !== undefined && !m.ci.includes(r.CiField.slice(2).toUpperCase())) return false;
  if (m.hasRecord !== undefined && !r.Body.DataRecords.some((x) => x.DifVif.slice(2).toUpperCase() === m.hasRecord)) return false;
  if (m.bytes !== undefined) {
    const b = areas.get(m.bytes.area, m.bytes.record);
    const at = m.bytes.offset < 0 ? b.length + m.bytes.offset : m.bytes.offset;
    if (at < 0 || Buffer.from(b.subarray(at, at + m.bytes.hex.length / 2)).toString('hex').toUpperCase() !== m.bytes.hex) return false;
  }
  return true;
}

function upRecord(r: DriverRecordSource): DriverRecordSource {
  return { ...r, ...(r.difVif ? { difVif: r.difVif.toUpperCase() } : {}), ...(r.vif ? { vif: r.vif.toUpperCase() } : {}) };
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
      ...(m.bytes ? { bytes: { ...m.bytes, hex: up(m.bytes.hex), ...(m.bytes.record ? { record: upRecord(m.bytes.record) } : {}) } } : {}),
    })),
    fields: def.fields.map((f) => ({
      ...f,
      ...(f.record ? { record: upRecord(f.record) } : {}),
      ...(f.bytes?.record ? { bytes: { ...f.bytes, record: upRecord(f.bytes.record) } } : {}),
    })),
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

  knows(manufacturer: string): boolean {
    return this.byManufacturer.has(manufacturer);
  }

  /** Drivers whose match rules name this manufacturer, version and device type (CI and payload not checked). */
  findByHeader(manufacturer: string, version: number, deviceType: number): CompiledDriver[] {
    return (this.byManufacturer.get(manufacturer) ?? []).filter((d) => d.def.match.some((m) => m.manufacturer === manufacturer
      && (m.version === undefined || m.version.includes(version)) && (m.deviceType === undefined || m.deviceType.includes(deviceType))));
  }

  /** `areas` shares decoded byte areas between matching and running (one hex conversion each). */
  find(r: WmbusResult, areas: Areas = new Areas(r)): CompiledDriver | null {
    const list = this.byManufacturer.get(r.MFieldCodeString);
    if (list === undefined) return null;
    for (const d of list) {
      for (const m of d.def.match) {
        if (m.manufacturer === r.MFieldCodeString && ruleMatches(m, r, areas)) return d;
      }
    }
    return null;
  }
}

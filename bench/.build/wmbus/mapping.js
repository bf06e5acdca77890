function hex2(v) {
    return v.toString(16).toUpperCase().padStart(2, '0');
}
/** Application-layer identity: the long TPL header when there is one, else the link layer. */
function appIdentity(r) {
    if (r.Header.IdString !== '') {
        return { id: r.Header.IdString, m: r.Header.MFieldCodeString, version: r.Header.Version, type: parseInt(r.Header.DeviceType, 16) || 0 };
    }
    return { id: r.IdString, m: r.MFieldCodeString, version: r.Version, type: parseInt(r.Device, 16) || 0 };
}
function matches(f, r, app) {
    if (f === undefined || f === null)
        return true;
    if (f.formatSignature !== undefined && f.formatSignature.toUpperCase().padStart(4, '0') !== r.FormatSignature.toString(16).toUpperCase().padStart(4, '0'))
        return false;
    if (f.manafacture !== undefined && f.manafacture.toUpperCase() !== app.m.toUpperCase())
        return false;
    if (f.type !== undefined && parseInt(f.type, 16) !== app.type)
        return false;
    if (f.version !== undefined && Number(f.version) !== app.version)
        return false;
    return true;
}
function secondPrecision(now) {
    return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
export function applyMappings(result, config, now) {
    const app = appIdentity(result);
    for (const mapping of config?.mappings ?? []) {
        if (mapping === null || typeof mapping !== 'object' || !matches(mapping.filter, result, app))
            continue;
        const medium = Object.keys(mapping).find((k) => k !== 'comment' && k !== 'filter' && typeof mapping[k] === 'object' && mapping[k] !== null);
        if (medium === undefined)
            continue;
        const fields = mapping[medium];
        const nowIso = now.toISOString();
        const model = {
            id: `${app.m}${app.id}${app.version}${secondPrecision(now)}`,
            type: `${medium.charAt(0).toUpperCase()}${medium.slice(1)}MeterReading`,
            meterId: app.id,
            linkLayerId: result.IdString,
            meterType: app.type,
            manufacturer: app.m,
            manufacturerLinkLayer: result.MFieldCodeString,
            version: app.version,
            versionLinkLayer: result.Version,
        };
        const records = result.Body.DataRecords;
        const dateFor = new Map();
        for (const [k, idx] of Object.entries(fields)) {
            if (!k.endsWith('DateIdx') || typeof idx !== 'number')
                continue;
            const rec = records[idx];
            if (rec !== undefined && rec.ValueString !== '')
                dateFor.set(`${k.slice(0, -'DateIdx'.length)}Value`, rec.ValueString);
        }
        for (const [k, idx] of Object.entries(fields)) {
            if (!k.endsWith('Idx') || k.endsWith('DateIdx') || typeof idx !== 'number')
                continue;
            const rec = records[idx];
            if (rec === undefined)
                continue;
            const name = k.slice(0, -'Idx'.length);
            model[name] = { date: dateFor.get(name) ?? nowIso, value: rec.ValueScaled, unit: rec.VifUnit };
        }
        return model;
    }
    return null;
}

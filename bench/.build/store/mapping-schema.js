import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
/** Index into Body.DataRecords. */
const Index = Type.Integer({ minimum: 0, maximum: 1000 });
/** One medium object (`heat`, `water`, …): `<field>Idx` → record index (lobaro-api.md §3.2). */
const Medium = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]*Idx$' }), Index, { additionalProperties: false });
export const MappingSchema = Type.Object({
    comment: Type.Optional(Type.String({ maxLength: 1000 })),
    filter: Type.Optional(Type.Object({
        formatSignature: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{1,4}$' })),
        // Spelled as Lobaro spells it.
        manafacture: Type.Optional(Type.String({ pattern: '^[A-Za-z@]{3}$' })),
        type: Type.Optional(Type.String({ pattern: '^[0-9A-Fa-f]{1,2}$' })),
        version: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    }, { additionalProperties: false })),
    heat: Type.Optional(Medium),
    water: Type.Optional(Medium),
    gas: Type.Optional(Medium),
    electricity: Type.Optional(Medium),
    hca: Type.Optional(Medium),
}, { additionalProperties: false });
export const MappingConfigSchema = Type.Object({ mappings: Type.Array(MappingSchema, { maxItems: 10_000 }) }, { additionalProperties: false });
/** Returns the problems of a mapping document (empty = valid), each with its JSON path. */
export function mappingProblems(doc) {
    const problems = [...Value.Errors(MappingConfigSchema, doc)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
    if (problems.length === 0) {
        const mappings = doc.mappings;
        mappings.forEach((m, i) => {
            const media = ['heat', 'water', 'gas', 'electricity', 'hca'].filter((k) => k in m);
            if (media.length !== 1)
                problems.push(`/mappings/${i}: needs exactly one medium object (heat, water, gas, electricity or hca)`);
        });
    }
    return problems;
}

/**
 * FLAG association manufacturer IDs (EN 13757-3 §5.5 M-field), code → "name, country" as the public
 * FLAG list records them; transcribed from the CC0 table in wmbusmeters `src/manufacturers.h` (itself
 * from the DLMS/FLAG ID list). The data is `flag-codes.json`, loaded with the module (a JSON module:
 * no file access at decode time; tsc copies it to dist/ with the code). `manufacturers.ts` prefers
 * Lobaro's spelling where it has one. The one code without a name in the source (KAC) keeps its country only.
 */
import names from './flag-codes.json' with { type: 'json' };

export const FLAG_NAMES: Readonly<Record<string, string>> = Object.freeze(names);

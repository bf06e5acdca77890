/**
 * The FLAG table is a JSON module (src/wmbus/flag-codes.json). The build must copy it to dist/ and
 * plain Node 20 must load the built module: compiled here with the build's compiler options (only the
 * manufacturer module and what it imports), then imported by a separate `node` process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const out = mkdtempSync(path.join(tmpdir(), 'flag-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('FLAG table in the build', () => {
  it('tsc emits flag-codes.json next to the code, and Node loads the built module', { timeout: 60_000 }, () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.build.json'), { outDir: out }, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (config === undefined) throw new Error('no build config');
    const program = ts.createProgram([path.join(root, 'src/wmbus/manufacturers.ts')], config.options);
    const emitted = program.emit();
    expect(emitted.emitSkipped).toBe(false);
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const m = await import(${JSON.stringify(path.join(out, 'wmbus/manufacturers.js'))});
      const f = await import(${JSON.stringify(path.join(out, 'wmbus/flag-codes.js'))});
      console.log(JSON.stringify([Object.keys(f.FLAG_NAMES).length, m.manufacturerName('ZZZ'), m.manufacturerName('ELS')]));
    `], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([1250, 'Michael Rac, Germany', 'Elster GmbH, Germany, Europe']);
  });
});

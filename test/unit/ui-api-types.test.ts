import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypes } from '../../scripts/openapi.js';

/**
 * The console is typed against ui/src/api.d.ts; this proves that file is what the server's
 * OpenAPI document gives today, so a changed route fails here (and the ui typecheck then shows
 * which page uses it). Fix: `npm run ui:api`, then `npm run typecheck`.
 */
describe('console API types', () => {
  it('ui/src/api.d.ts matches the OpenAPI document of the current server', async () => {
    const expected = await apiTypes();
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    expect(committed === expected, 'ui/src/api.d.ts is stale: run `npm run ui:api` and fix what `npm run typecheck` reports').toBe(true);
  }, 60_000);
});

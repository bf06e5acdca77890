import { describe, expect, it } from 'vitest';
import { uuid7 } from '../../src/lib/uuid7.js';

describe('uuid7', () => {
  it('is a version 7, variant 10 UUID that sorts by time and never repeats', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => uuid7(1_700_000_000_000 + Math.floor(i / 10)));
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 10).every((id) => id.startsWith('018bcfe5-6800'))).toBe(true);
    expect(ids[0]! < ids[4_999]!).toBe(true);
  });
});

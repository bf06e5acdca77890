import { describe, expect, it } from 'vitest';
import { Topics, topicLevel } from '../../src/publish/topics.js';

describe('topics', () => {
  const t = new Topics('oms/v1/gw/{gateway_id}/meter/{meter_id}');
  it('renders the default topics exactly', () => {
    expect(t.raw('gw1', 'abc')).toBe('oms/v1/gw/gw1/raw/abc');
    expect(t.reading('gw1', '12345678')).toBe('oms/v1/gw/gw1/meter/12345678/reading');
    expect(t.error('gw1', 'abc')).toBe('oms/v1/gw/gw1/errors/abc');
  });
  it('uses "unknown" when there is no meter id', () => {
    expect(t.reading('gw1', null)).toBe('oms/v1/gw/gw1/meter/unknown/reading');
    expect(t.reading('gw1', '')).toBe('oms/v1/gw/gw1/meter/unknown/reading');
  });
  it.each([['a/b', 'a_b'], ['+', '_'], ['#', '_'], ['x\u0000y', 'x_y'], ['ä', '_'], ['a'.repeat(100), 'a'.repeat(64)]])(
    'never lets %j split or wildcard a topic', (input, out) => {
      expect(topicLevel(input)).toBe(out);
      expect(t.reading('gw', input).split('/')).toHaveLength(7);
    },
  );
  it('follows a custom template', () => {
    expect(new Topics('site/{gateway_id}/{meter_id}').reading('g', 'm')).toBe('site/g/m/reading');
  });
});

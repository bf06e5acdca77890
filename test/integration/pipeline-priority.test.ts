import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startTestBroker, type TestBroker } from '../helpers/mqtt.js';

/** Nice value of every thread of this process (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // comm may contain spaces: fields are counted after its closing parenthesis (field 3 = state).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), Number(fields[16]));
    } catch {
      // the thread ended while we listed
    }
  }
  return out;
}

const countWithNice = (nice: number): number => [...niceByThread().values()].filter((n) => n === nice).length;

describe.skipIf(process.platform !== 'linux')('pipeline thread priority (PIPELINE_NICE)', () => {
  let broker: TestBroker;
  let t: TestApp | undefined;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker.stop();
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('runs the pipeline thread at the configured nice value and leaves the HTTP thread alone', async () => {
    // 13 is used by no other test, so threads of tests running beside this one cannot be counted.
    expect(countWithNice(13)).toBe(0);
    t = await startTestApp({ MQTT_URL: broker.url, PIPELINE_THREAD: 'true', PIPELINE_NICE: '13' });
    expect(countWithNice(13)).toBe(1);
    const self = Number(readlinkSync('/proc/thread-self').split('/').pop());
    expect(niceByThread().get(self)).toBe(0);
    await t.stop();
    t = undefined;
    expect(countWithNice(13)).toBe(0);
  });

  it('PIPELINE_NICE=0 leaves every thread at its priority', async () => {
    const niced = (): number => [...niceByThread().values()].filter((n) => n !== 0).length;
    const before = niced();
    t = await startTestApp({ MQTT_URL: broker.url, PIPELINE_THREAD: 'true', PIPELINE_NICE: '0' });
    expect(niced()).toBe(before);
  });
});

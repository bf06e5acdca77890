/**
 * Which MQTT broker a benchmark runs against, and private Mosquitto instances.
 * BENCH_MQTT=system|private|embedded overrides the default choice.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, onCleanup, portOpen, spawnTracked, stopChild, waitUntil } from './common.js';

export type BrokerKind = 'system-mosquitto' | 'private-mosquitto' | 'embedded-aedes';

export interface BrokerChoice {
  kind: BrokerKind;
  /** Where subscribers connect (for the embedded broker: valid once the bridge runs). */
  url: string;
  /** Environment for the bridge. */
  bridgeEnv: Record<string, string>;
  description: string;
}

const SYSTEM_PORT = 1883;

/**
 * Default: the machine's Mosquitto on 127.0.0.1:1883 when it answers, else the
 * bridge's embedded broker on a free port (single instance) or a private
 * Mosquitto (`embeddedAllowed: false`, several instances share one broker).
 */
export async function chooseBroker(embeddedAllowed: boolean): Promise<BrokerChoice> {
  const want = process.env.BENCH_MQTT ?? 'auto';
  if (!['auto', 'system', 'private', 'embedded'].includes(want)) throw new Error(`BENCH_MQTT must be system|private|embedded, got "${want}"`);
  if (want === 'system' || (want === 'auto' && (await portOpen(SYSTEM_PORT)))) {
    if (!(await portOpen(SYSTEM_PORT))) throw new Error('BENCH_MQTT=system but nothing answers on 127.0.0.1:1883');
    const url = `mqtt://127.0.0.1:${SYSTEM_PORT}`;
    return { kind: 'system-mosquitto', url, bridgeEnv: { MQTT_URL: url }, description: `system Mosquitto ${url}` };
  }
  if (want === 'private' || !embeddedAllowed) {
    const m = await PrivateMosquitto.start();
    onCleanup(() => m.stop());
    return { kind: 'private-mosquitto', url: m.url, bridgeEnv: { MQTT_URL: m.url }, description: `private Mosquitto ${m.url}` };
  }
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  return { kind: 'embedded-aedes', url, bridgeEnv: { EMBEDDED_MQTT_PORT: String(port) }, description: `embedded aedes broker in the bridge, ${url}` };
}

/**
 * `mosquitto -c <conf>` on a loopback port, with persistence in a temp dir so a
 * stop/start keeps the subscriber's persistent session and the messages
 * queued for it (a stopped broker must not make the benchmark count losses
 * that are the broker's, not the bridge's). No limit on queued messages.
 */
export class PrivateMosquitto {
  private proc: ChildProcess | undefined;
  private readonly conf: string;

  private constructor(readonly port: number, private readonly dir: string) {
    this.conf = join(dir, 'mosquitto.conf');
    writeFileSync(this.conf, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 0',
      'max_queued_messages 0',
      'max_inflight_messages 100',
      'log_dest none',
      '',
    ].join('\n'));
  }

  static async start(port?: number): Promise<PrivateMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'oms-bench-mosq-'));
    // Started as root, mosquitto drops to the "mosquitto" user and must still write its persistence file here.
    chmodSync(dir, 0o777);
    const m = new PrivateMosquitto(port ?? (await freePort()), dir);
    await m.resume();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** (Re)starts the broker on the same port with the same persistence file. */
  async resume(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    this.proc = spawnTracked('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const p = this.proc;
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const ok = await waitUntil(async () => p.exitCode !== null || (await portOpen(this.port, 200)), 10_000, 50);
    if (!ok || p.exitCode !== null) throw new Error(`mosquitto on port ${this.port} did not start: ${err}`);
  }

  /** Stops the broker process (SIGTERM saves the persistence file). */
  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc) await stopChild(this.proc, signal, 5_000);
  }

  async stop(): Promise<void> {
    await this.halt('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { EmbeddedBroker } from '../../src/publish/embedded-broker.js';

/** A broker this test may stop and start again on the same port: a mosquitto process when installed, else aedes. */
export class KillableBroker {
  private proc: ChildProcess | undefined;
  private aedes: EmbeddedBroker | undefined;
  readonly kind = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error ? 'aedes' : 'mosquitto';

  constructor(readonly port: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.kind === 'mosquitto') {
      this.proc = spawn('mosquitto', ['-p', String(this.port)], { stdio: 'ignore' });
      await waitForPort(this.port);
    } else {
      this.aedes = new EmbeddedBroker(this.port);
      await this.aedes.start();
    }
  }

  async stop(): Promise<void> {
    if (this.proc) {
      const p = this.proc;
      this.proc = undefined;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    }
    await this.aedes?.stop();
    this.aedes = undefined;
  }
}

export async function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`broker did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

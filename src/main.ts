import { createApp, type App } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { BridgeError } from './lib/errors.js';
import { createLogger } from './observability/logger.js';

/** Process entry: config → app → signals. Exit codes: 0 clean stop, 1 start failure, 2 bad configuration. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`config error: ${p}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let app: App | undefined;
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    void (app?.stop() ?? Promise.resolve()).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));

  try {
    app = await createApp(config, log);
    await app.start();
  } catch (err) {
    const message = err instanceof BridgeError ? `${err.code}: ${err.message}` : (err as Error).stack ?? String(err);
    process.stderr.write(`oms-bridge failed to start: ${message}\n`);
    await app?.stop().catch(() => undefined);
    process.exit(1);
  }
  if (config.generatedGatewayKey) {
    process.stderr.write(
      `\nINGEST_API_KEYS is unset, so this dev instance generated a one-time gateway key (valid for any gateway_id until restart):\n\n` +
        `  Authorization: Bearer ${config.generatedGatewayKey}\n\nSet INGEST_API_KEYS=gw1:key1;gw2:key2 to choose your own. APP_ENV=prod requires it.\n\n`,
    );
  }
}

void main();

import { ConfigError, loadConfig } from '../config.ts';
import type { RequestContext } from '../graphql/context.ts';
import { createLogger } from '../logger.ts';
import { onShutdown } from '../process/shutdown.ts';
import { bootSubgraph } from './boot.ts';
import type { Storage, SubgraphDefinition } from './definition.ts';

/**
 * A subgraph's process (its main.ts): configuration from the environment (the platform's
 * variables and its own fragment), one logger, the subgraph booted, and a clean stop on
 * SIGTERM/SIGINT or when `npm start`'s supervisor goes away.
 */
export async function runSubgraph<S extends Storage, P, C extends RequestContext>(definition: SubgraphDefinition<S, P, C, object>): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, definition.config ? [definition.config] : []);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const log = createLogger(definition.name, config.ANGELIS_LOG_LEVEL);
  const running = await bootSubgraph(definition, config, log, {});
  onShutdown(log, () => running.stop(), config.ANGELIS_SUPERVISOR_PID);
}

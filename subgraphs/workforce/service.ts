import type { Config } from '../../platform/config.ts';
import { identitySecret } from '../../platform/auth/identity.ts';
import { CommandHandler } from '../../platform/event-store/command-handler.ts';
import { todayUtc } from '../../platform/domain/input.ts';
import type { Logger } from '../../platform/logger.ts';
import { migrate, ensureDatabase } from '../../platform/postgres/migrate.ts';
import { Db, poolSettings } from '../../platform/postgres/pool.ts';
import { startSubgraph } from '../../platform/graphql/subgraph.ts';
import type { RunningServer } from '../../platform/http/server.ts';
import { WorkforceCommands } from './commands.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type WorkforceContext } from './resolvers.ts';
import { workforceMigrations } from './store/migrations.ts';

export interface WorkforceService {
  server: RunningServer;
  db: Db;
  commands: WorkforceCommands;
  handler: CommandHandler;
  stop(): Promise<void>;
}

/** Starts the Workforce subgraph: pool, migrations, command handler, HTTP server. */
export async function startWorkforce(config: Config, log: Logger, options: { db?: Db; port?: number } = {}): Promise<WorkforceService> {
  const db = options.db ?? new Db(poolSettings(config, config.ANGELIS_POSTGRES_DB_NAME, 'angelis-workforce'));
  // Its own database: created on first start (a managed server may have made it already).
  if (!options.db) await ensureDatabase(db.settings);
  await migrate(db, 'workforce', workforceMigrations, log);
  const handler = new CommandHandler(db);
  const commands = new WorkforceCommands(handler);
  const server = await startSubgraph<WorkforceContext>({
    name: 'workforce',
    resolvers,
    host: config.ANGELIS_WORKFORCE_HOST,
    port: options.port ?? config.ANGELIS_WORKFORCE_PORT,
    nodeEnv: config.NODE_ENV,
    identitySecret: identitySecret(config),
    log,
    context: (base) => ({ ...base, db, loaders: createLoaders(db, base.identity), commands, today: todayUtc(), written: new Map() }),
    ready: async () => (await db.query('SELECT 1')).rowCount === 1,
  });
  log.info({ url: server.url }, 'workforce subgraph listening');
  return {
    server,
    db,
    commands,
    handler,
    async stop() {
      await server.stop();
      if (!options.db) await db.end();
    },
  };
}

import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { Db, poolSettings } from '../postgres/pool.ts';
import { migrate } from '../postgres/migrate.ts';
import { withEmbeddedDefaults } from '../postgres/embedded.ts';
import { workforceMigrations } from '../../subgraphs/workforce/store/migrations.ts';
import { rebuildWorkforce } from '../../subgraphs/workforce/store/rebuild.ts';
import { ciamMigrations } from '../../subgraphs/ciam/store/migrations.ts';
import { rebuildCiam } from '../../subgraphs/ciam/store/rebuild.ts';

/** `npm run rebuild -- <domain>`: truncate a domain's read tables and replay its events. */
const domains = {
  workforce: { database: (c: ReturnType<typeof loadConfig>) => c.ANGELIS_POSTGRES_DB_NAME, migrations: workforceMigrations, rebuild: rebuildWorkforce },
  ciam: { database: (c: ReturnType<typeof loadConfig>) => c.ANGELIS_CIAM_DB_NAME, migrations: ciamMigrations, rebuild: rebuildCiam },
};

const name = process.argv[2];
if (!name || !(name in domains)) {
  console.error(`usage: npm run rebuild -- <${Object.keys(domains).join('|')}>`);
  process.exit(2);
}
// With no host configured: the embedded server of a running `npm start`.
const config = withEmbeddedDefaults(loadConfig());
const log = createLogger('rebuild', config.ANGELIS_LOG_LEVEL);
const domain = domains[name as keyof typeof domains];
const db = new Db({ ...poolSettings(config, domain.database(config), 'angelis-rebuild'), size: 1, overflow: 0 });
try {
  await migrate(db, name, domain.migrations, log);
  const started = Date.now();
  const replayed = await domain.rebuild(db, (n) => process.stderr.write(`\rreplayed ${n} events`));
  process.stderr.write('\n');
  log.info({ domain: name, replayed, ms: Date.now() - started }, 'read tables rebuilt');
} finally {
  await db.end();
}

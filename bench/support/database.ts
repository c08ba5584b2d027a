import { CommandHandler } from '../../platform/event-store/command-handler.ts';
import { PostgresEventStore } from '../../platform/event-store/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/testing/postgres.ts';
import { WorkforceCommands } from '../../subgraphs/workforce/commands.ts';
import { workforceMigrations } from '../../subgraphs/workforce/store/migrations.ts';
import type { BenchScope } from './lifecycle.ts';

export interface BenchDatabase {
  /** Names this bench's databases (`t_<prefix>_...`). */
  prefix: string;
  database: TestDatabase;
  /** Commands run in this process, for seeding. */
  commands: WorkforceCommands;
  /** ANGELIS_* variables that point a child service at this database. */
  env: Record<string, string>;
  /** Backend pids serving this database, for CPU accounting. */
  backendPids(): Promise<number[]>;
}

/** A fresh, migrated Workforce database on the local server; dropped when the bench ends. */
export async function createBenchDatabase(scope: BenchScope, prefix: string): Promise<BenchDatabase> {
  const database = await createTestDatabase(prefix, [{ service: 'workforce', migrations: workforceMigrations }], 8);
  scope.defer(() => database.drop());
  const { host, port, database: name } = database.settings;
  return {
    prefix,
    database,
    commands: new WorkforceCommands(new CommandHandler(new PostgresEventStore(database.db)), database.db),
    env: {
      ANGELIS_POSTGRES_DB_HOST: host,
      ANGELIS_POSTGRES_DB_PORT: String(port),
      ANGELIS_POSTGRES_DB_NAME: name,
    },
    async backendPids() {
      const { rows } = await database.db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      return rows.map((r) => r.pid);
    },
  };
}

import { todayUtc } from '../../platform/domain/input.ts';
import { postgresEventSource, postgresStorage } from '../../platform/service/postgres-storage.ts';
import { defineSubgraph } from '../../platform/service/definition.ts';
import { WorkforceCommands } from './commands.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type WorkforceContext } from './resolvers.ts';
import { seedWorkforce } from './seed.ts';
import { workforceMigrations } from './store/migrations.ts';
import { rebuildWorkforce } from './store/rebuild.ts';

/** Workforce: companies, projects, assignments, worker profiles, licences, subscriptions. */
export const workforce = defineSubgraph({
  name: 'workforce',
  kind: 'domain',
  defaultPort: 4001,
  open: postgresStorage({ service: 'workforce', database: (c) => c.ANGELIS_POSTGRES_DB_NAME, migrations: workforceMigrations }),
  eventSource: postgresEventSource((c) => c.ANGELIS_POSTGRES_DB_NAME),
  setup: ({ handler, storage }) => ({ db: storage.db, events: storage.store, commands: new WorkforceCommands(handler!, storage.db) }),
  context: (base, { db, events, commands }): WorkforceContext => ({ ...base, db, loaders: createLoaders(db, base.identity, events), commands, today: todayUtc(), written: new Map() }),
  resolvers,
  resolverTypes: {
    contextType: '../resolvers.ts#WorkforceContext',
    mappers: {
      Company: '../store/read-model.ts#CompanyRow',
      Project: '../store/read-model.ts#ProjectRow',
      Assignment: '../store/read-model.ts#AssignmentRow',
      Profile: '../store/read-model.ts#ProfileRow',
      ProfileCompany: '../store/read-model.ts#ProfileCompanyRow',
      ProfileAssignment: '../store/read-model.ts#ProfileAssignmentRow',
      License: '../store/read-model.ts#LicenseRow',
      Offering: '../store/read-model.ts#OfferingRow',
      CompanySubscription: '../store/read-model.ts#SubscriptionRow',
      Notification: '../store/notifications.ts#NotificationRow',
      AuditEntry: '../../../platform/event-store/types.ts#RecordedEvent',
    },
  },
  rebuild: (storage, onProgress) => rebuildWorkforce(storage.db, onProgress),
  seed: async ({ parts, storage, log }) => {
    const { rows } = await storage.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    if (rows[0].n > 0) return;
    log.info('first start: seeding sample data');
    await seedWorkforce(parts.commands, log);
  },
});

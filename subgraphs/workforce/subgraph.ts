import { z } from 'zod';
import { configFragment, fragmentOf } from '../../platform/config.ts';
import { todayUtc } from '../../platform/domain/input.ts';
import type { Db } from '../../platform/postgres/pool.ts';
import { openPubSub, type PubSub } from '../../platform/redis/pubsub.ts';
import { WorkforceNotifications } from './notifications.ts';
import { postgresEventSource, postgresStorage } from '../../platform/service/postgres-storage.ts';
import { defineSubgraph } from '../../platform/service/definition.ts';
import { WorkforceCommands } from './commands.ts';
import { createLoaders } from './loaders.ts';
import { resolvers, type WorkforceContext } from './resolvers.ts';
import { seedWorkforce } from './seed.ts';
import { workforceMigrations } from './store/migrations.ts';
import { rebuildWorkforce } from './store/rebuild.ts';
import { workforceCacheRules } from './store/cache-rules.ts';

/** Workforce's own variables. */
export const workforceConfig = configFragment(['NOTIFICATIONS'], {
  /** How often the licence expiry check runs (ms; it also runs a second after start); 0 turns it off. */
  ANGELIS_NOTIFICATIONS_SCAN_MS: z.coerce.number().int().min(0).default(15 * 60_000),
});

/** Options mostly for tests. */
export interface WorkforceOptions {
  db?: Db;
  /** Where notification wake-ups are published; default from ANGELIS_REDIS_URL (in-process when unset). */
  pubsub?: PubSub;
  /** Prefix of the wake-up channel (`<prefix>notifications`); the gateway expects the default `angelis:`. */
  keyPrefix?: string;
  /** The clock the licence expiry check judges "today" by. */
  now?: () => Date;
}

/** Workforce: companies, projects, assignments, worker profiles, licences, subscriptions, notifications. */
export const workforce = defineSubgraph({
  name: 'workforce',
  kind: 'domain',
  defaultPort: 4001,
  config: workforceConfig,
  open: (config, log, options: WorkforceOptions) =>
    postgresStorage({ service: 'workforce', database: (c) => c.ANGELIS_POSTGRES_DB_NAME, migrations: workforceMigrations })(config, log, options),
  eventSource: postgresEventSource((c) => c.ANGELIS_POSTGRES_DB_NAME),
  async setup({ config, log, handler, storage, options }) {
    const commands = new WorkforceCommands(handler!, storage.db);
    const pubsub = options.pubsub ?? (await openPubSub(config, log));
    const notifications = new WorkforceNotifications({
      commands, db: storage.db, log, pubsub, prefix: options.keyPrefix ?? config.ANGELIS_REDIS_KEY_PREFIX, now: options.now ?? (() => new Date()),
    });
    // After commit only: a wake-up for notifications that may still roll back would be a lie.
    handler!.onCommit(notifications.onCommit);
    notifications.start(fragmentOf(config, workforceConfig).ANGELIS_NOTIFICATIONS_SCAN_MS);
    return { db: storage.db, events: storage.store, commands, notifications, pubsub, closePubSub: !options.pubsub };
  },
  async stop(parts) {
    await parts.notifications.stop();
    if (parts.closePubSub) await parts.pubsub.close();
  },
  responseCache: (storage) => ({ db: storage.db, rules: workforceCacheRules }),
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

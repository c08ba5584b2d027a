import { identitySecret } from '../../platform/auth/identity.ts';
import { endpointOf } from '../../platform/config.ts';
import { todayUtc } from '../../platform/domain/input.ts';
import { CommandHandler } from '../../platform/event-store/command-handler.ts';
import { Reactor } from '../../platform/event-store/reactor.ts';
import { defineSubgraph } from '../../platform/service/definition.ts';
import { SafetyCommands } from './commands.ts';
import { Access, createLoaders } from './loaders.ts';
import { anomalyNotifier } from './notifications.ts';
import { partialErrorsPlugin, resolvers, type SafetyContext } from './resolvers.ts';
import { seedSafety } from './seed.ts';
import { openSafetyStorage, safetyConfig, safetyEventSource, type SafetyStorage, type SafetyStorageOptions } from './storage.ts';
import { PROVIDERS, RESULT_SOURCES, testResultsClient, type Provider } from './test-results.ts';
import { workforceClient } from './workforce.ts';

/** Options mostly for tests. */
export interface SafetyOptions extends SafetyStorageOptions {
  /** Workforce's GraphQL URL (projects, assignments, licences, notifications); default ANGELIS_WORKFORCE_URL. */
  workforceUrl?: string;
  /** The test-result sources' GraphQL URLs (compliance, testResults); default ANGELIS_SAFERAPP_URL / ANGELIS_FIT2000_URL. */
  sourceUrls?: Partial<Record<Provider, string | null>>;
  /** Relay anomaly notifications to Workforce (default true). */
  relay?: boolean;
  relayPollMs?: number;
}

/** The relay's checkpoint name in Safety's store. */
export const ANOMALY_RELAY = 'anomaly-notifications';

/**
 * Safety & Compliance: form templates in versions, safety forms, anomalies and compliance,
 * on MongoDB (ANGELIS_MONGO_URL) or, when that is unset, on PostgreSQL.
 */
export const safety = defineSubgraph({
  name: 'safety',
  kind: 'domain',
  defaultPort: 4003,
  config: safetyConfig,
  open: (config, log, options: SafetyOptions): Promise<SafetyStorage> => openSafetyStorage(config, log, options),
  eventSource: safetyEventSource,
  // On MongoDB overlapping appends conflict and are retried (see platform/event-store/mongodb/store.ts): more retries than the default.
  handlerOptions: { retry: { maxRetries: 10 } },
  async setup({ config, log, storage, handler, options }) {
    const workforceUrl = options.workforceUrl ?? endpointOf(config, 'workforce')?.url ?? null;
    const commands = new SafetyCommands(handler as CommandHandler<unknown>, storage.documents);
    const relay = new Reactor({
      name: ANOMALY_RELAY,
      store: storage.store,
      checkpoints: storage.documents,
      types: ['AnomalyReported'],
      handle: anomalyNotifier({ url: workforceUrl, identitySecret: identitySecret(config), log }),
      log,
      pollMs: options.relayPollMs,
    });
    if (options.relay !== false) await relay.start();
    return {
      storage,
      commands,
      relay,
      workforce: workforceClient({ url: workforceUrl, identitySecret: identitySecret(config), log }),
      testResults: testResultsClient({
        urls: Object.fromEntries(PROVIDERS.map((p) => [p, options.sourceUrls?.[p] !== undefined ? options.sourceUrls[p] : (endpointOf(config, RESULT_SOURCES[p].service)?.url ?? null)])) as Record<Provider, string | null>,
        identitySecret: identitySecret(config),
        log,
      }),
    };
  },
  context: (base, p): SafetyContext => {
    const workforce = base.identity ? p.workforce(base.identity, base.correlationId) : null;
    return {
      ...base,
      store: p.storage.documents,
      events: p.storage.store,
      commands: p.commands,
      loaders: createLoaders(p.storage.documents, p.storage.store),
      workforce,
      access: base.identity && workforce ? new Access(base.identity, workforce) : null,
      testResults: base.identity ? p.testResults(base.identity, base.correlationId) : null,
      today: todayUtc(),
      partialErrors: [],
    };
  },
  resolvers,
  plugins: [partialErrorsPlugin],
  resolverTypes: {
    contextType: '../resolvers.ts#SafetyContext',
    mappers: {
      FormTemplate: '../store/documents.ts#TemplateDoc',
      SafetyForm: '../store/documents.ts#FormDoc',
      Anomaly: '../store/documents.ts#AnomalyDoc',
      Compliance: '../compliance.ts#ComplianceRow',
      TestResult: '../test-results.ts#ResultRow',
      MergedTestResultConnection: '../test-results.ts#MergedConnection',
      Project: '../store/documents.ts#EntityRef',
      Profile: '../store/documents.ts#EntityRef',
      License: '../store/documents.ts#EntityRef',
      Company: '../store/documents.ts#EntityRef',
      AuditEntry: '../../../platform/event-store/types.ts#RecordedEvent',
    },
  },
  async stop(p) {
    await p.relay.stop();
  },
  rebuild: (storage, onProgress) => storage.rebuild(onProgress),
  seed: async ({ parts, storage, log }, peers) => {
    // The seeding process only writes: the running subgraph relays the notifications.
    await parts.relay.stop();
    if ((await storage.store.readAll({ transactionId: '0', globalPosition: 0 }, 1)).length > 0) return;
    log.info('first start: seeding sample safety data');
    await seedSafety(parts.commands, peers, log);
  },
});

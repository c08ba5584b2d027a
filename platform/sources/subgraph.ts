import { identitySecret, type Identity } from '../auth/identity.ts';
import { endpointOf, type Config, type ConfigFragment } from '../config.ts';
import { subgraphClient } from '../graphql/subgraph-client.ts';
import type { Logger } from '../logger.ts';
import { defineSubgraph, type Storage } from '../service/definition.ts';
import { SqlResultSource, unconfiguredSource, type TestResultSource } from './adapter.ts';
import { InMemoryResultSource } from './memory.ts';
import { ownRutFromWorkforce, sourceLoaders, type SourceContext } from './resolvers.ts';
import { sampleResults, samplePeople, SAMPLE_PEOPLE_QUERY, type PeoplePage } from './sample.ts';

/**
 * A read-only source subgraph (kind `source`: no event store, no migrations, no commands),
 * declared in a few lines by each source (SaferApp, Fit2000): its name, provider, field,
 * configuration fragment and how to open its database. The kit boots it like any subgraph.
 */

export interface SourceStorage extends Storage {
  source: TestResultSource;
}

export interface SourceOptions {
  /** The source to read (tests: a database adapter on a test database, or a double). */
  source?: TestResultSource;
  /** Workforce's GraphQL URL (a worker's own RUT; the sample's people); default ANGELIS_WORKFORCE_URL. */
  workforceUrl?: string;
}

export interface SourceSubgraph {
  name: string;
  /** The provider its results carry, e.g. FIT2000. */
  provider: string;
  /** How people call it, e.g. Fit2000. */
  sourceName: string;
  /** Its resolvers: `testResultResolvers(field, sourceName)`, checked against its generated types. */
  resolvers: object;
  defaultPort: number;
  config: ConfigFragment;
  /** Its database adapter when configured, else null (sample data in development, SOURCE_UNAVAILABLE in production). */
  open(config: Config, log: Logger): SqlResultSource | null;
}

const SYSTEM: Identity = { userId: 'sample-data', kind: 'internal-user', role: 'ADMIN', companyId: null, profileId: null, sessionId: 'sample-data' };

/** The source to read: given, configured, the development sample, or unconfigured. */
async function openSource(s: SourceSubgraph, config: Config, log: Logger, options: SourceOptions, workforceUrl: string | null): Promise<TestResultSource> {
  if (options.source) return options.source;
  const sql = s.open(config, log);
  if (sql) {
    try {
      await sql.verify();
      log.info(`${s.sourceName}: mapping checked against the source's columns`);
    } catch (err) {
      if ((err as Error).name === 'MappingError') {
        await sql.close().catch(() => {});
        throw err;
      }
      // Down now: its fields say SOURCE_UNAVAILABLE until it answers (checked before the first query).
      log.warn({ err: { message: (err as Error).message } }, `${s.sourceName} cannot be reached at startup; its fields answer SOURCE_UNAVAILABLE until it can`);
    }
    return sql;
  }
  if (config.NODE_ENV === 'production' || !workforceUrl) {
    log.warn(`${s.sourceName} is not configured: its fields answer SOURCE_UNAVAILABLE`);
    return unconfiguredSource(s.provider, s.sourceName);
  }
  log.warn(`${s.sourceName} is not configured: serving SAMPLE DATA (generated for Workforce's people and faenas), not real results`);
  const ask = subgraphClient({ name: 'workforce', url: workforceUrl, identitySecret: identitySecret(config), log });
  return new InMemoryResultSource(s.provider, 'sample', s.sourceName, async () => {
    const people = await samplePeople(async (after) => {
      const answer = await ask<PeoplePage>(SYSTEM, SAMPLE_PEOPLE_QUERY, { after }, 'sample-data');
      if (answer.status !== 200 || !answer.data) throw new Error(`workforce answered ${answer.status}`);
      return answer.data;
    });
    return sampleResults(s.provider, people);
  });
}

/** Declares a source subgraph. */
export function defineSourceSubgraph(s: SourceSubgraph) {
  return defineSubgraph({
    name: s.name,
    kind: 'source',
    defaultPort: s.defaultPort,
    config: s.config,
    async open(config, log, options: SourceOptions): Promise<SourceStorage> {
      const workforceUrl = options.workforceUrl ?? endpointOf(config, 'workforce', { port: 4001 })?.url ?? null;
      const source = await openSource(s, config, log, options, workforceUrl);
      log.info({ source: source.kind }, `${s.sourceName} source opened`);
      return {
        source,
        // A source being down never makes its subgraph unready: its fields say SOURCE_UNAVAILABLE, the rest answers.
        ready: async () => true,
        close: () => (options.source ? Promise.resolve() : source.close()),
      };
    },
    setup({ config, log, storage, options }) {
      const workforceUrl = options.workforceUrl ?? endpointOf(config, 'workforce', { port: 4001 })?.url ?? null;
      const ask = workforceUrl ? subgraphClient({ name: 'workforce', url: workforceUrl, identitySecret: identitySecret(config), log }) : null;
      return { source: storage.source, ownRut: ownRutFromWorkforce(ask as never) };
    },
    context: (base, parts): SourceContext => ({ ...base, results: sourceLoaders(parts.source, parts.ownRut, base) }),
    resolvers: s.resolvers,
    resolverTypes: {
      contextType: '../../../platform/sources/resolvers.ts#SourceContext',
      mappers: {
        Profile: '../../../platform/sources/resolvers.ts#ProfileRef',
        Project: '../../../platform/sources/resolvers.ts#ProjectRef',
        TestResult: '../../../platform/sources/results.ts#TestResultRow',
      },
    },
  });
}

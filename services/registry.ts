import { endpointOf, type Config, type ConfigFragment } from '../platform/config.ts';
import type { Storage, SubgraphDefinition } from '../platform/service/definition.ts';
import type { LakeSource } from '../schema/lake/contract.ts';

/**
 * The service registry: every service and domain of the platform, in start order. Adding
 * a domain is its folder under subgraphs/ (SDL in schema/subgraphs/, contracts in
 * schema/events and schema/lake) plus one entry here. What reads it:
 * - `npm start` (bin/start.ts): which processes run, their ports, readiness, seeding;
 * - `npm run rebuild` (bin/rebuild.ts): which domains have read models to rebuild;
 * - `npm run compose` (bin/compose.ts): which subgraphs make the supergraph, and so the
 *   gateway's subgraph list (gateway/subgraph-urls.ts reads it from the supergraph);
 * - the projector's sources (bin/projector.ts): domains with a `lake`;
 * - the README's service table and docker-compose.yml, checked against it by
 *   services/registry.unit.spec.ts.
 * Nothing below `services/` and `bin/` imports this file: dependencies point down.
 */

/** `domain`: owns its data, every change an event. `source`: an external system read, never written. */
export type ServiceKind = 'domain' | 'source' | 'gateway' | 'projector';
export type DatabaseKind = 'postgresql' | 'mongodb' | 'sqlserver' | 'mysql';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySubgraph = SubgraphDefinition<Storage, any, any, any>;

export interface ServiceEntry {
  name: string;
  kind: ServiceKind;
  /** One line for the README's table. */
  summary: string;
  /** The database a domain owns, or a source reads. */
  database?: DatabaseKind;
  /** Its process: a TypeScript file run with Node, and its arguments. */
  entry: string;
  args?: string[];
  /** Where it listens (and for subgraphs, its GraphQL URL). */
  listen(config: Config): { host: string; port: number; url: string; variable: string };
  /** The path that answers 200 once it can serve. */
  readyPath: string;
  /** Subgraphs: the definition (migrations, rebuild, seed, storage), loaded when needed. */
  subgraph?: () => Promise<AnySubgraph>;
  /** Domains copied to the lake: their lake contract (events and tables). */
  lake?: () => Promise<LakeSource>;
  /** docker-compose.yml services it needs beside its own container. */
  compose: string[];
  /** Whether `npm start` runs it (default: always). */
  enabled?(config: Config): boolean;
}

/** A subgraph's entry: listens on ANGELIS_<NAME>_HOST/_PORT, default 127.0.0.1 and `port`. */
function subgraph(e: Omit<ServiceEntry, 'listen' | 'readyPath' | 'entry'> & { port: number }): ServiceEntry {
  const { port, ...rest } = e;
  return {
    ...rest,
    entry: `subgraphs/${e.name}/main.ts`,
    readyPath: '/readyz',
    listen: (config) => ({ ...endpointOf(config, e.name, { port })!, variable: `ANGELIS_${e.name.toUpperCase()}_PORT` }),
  };
}

export const SERVICES: ServiceEntry[] = [
  subgraph({
    name: 'workforce',
    kind: 'domain',
    summary: 'companies, projects (faenas), assignments, worker profiles, licences, offerings, subscriptions',
    database: 'postgresql',
    port: 4001,
    subgraph: () => import('../subgraphs/workforce/subgraph.ts').then((m) => m.workforce),
    lake: () => import('../schema/lake/workforce.ts').then((m) => m.workforceLakeSource),
    compose: ['postgres'],
  }),
  subgraph({
    name: 'ciam',
    kind: 'domain',
    summary: 'identity & access: internal users, worker logins, one-time codes, sessions, access tokens (JWKS)',
    database: 'postgresql',
    port: 4002,
    subgraph: () => import('../subgraphs/ciam/subgraph.ts').then((m) => m.ciam),
    // No lake copy: its events carry password hashes and encrypted signing keys.
    compose: ['postgres', 'redis'],
  }),
  subgraph({
    name: 'safety',
    kind: 'domain',
    summary: 'safety & compliance: form templates (versioned), safety forms, anomalies, compliance per worker and project',
    database: 'mongodb',
    port: 4003,
    subgraph: () => import('../subgraphs/safety/subgraph.ts').then((m) => m.safety),
    lake: () => import('../schema/lake/safety.ts').then((m) => m.safetyLakeSource),
    // MongoDB in production; PostgreSQL when ANGELIS_MONGO_URL is unset (the fallback).
    compose: ['mongo', 'postgres'],
  }),
  subgraph({
    name: 'saferapp',
    kind: 'source',
    summary: 'SaferApp test results (external SQL Server, read-only; sample data when unconfigured)',
    database: 'sqlserver',
    port: 4004,
    subgraph: () => import('../subgraphs/saferapp/subgraph.ts').then((m) => m.saferapp),
    compose: ['mssql'],
  }),
  subgraph({
    name: 'fit2000',
    kind: 'source',
    summary: 'Fit2000 test results (external MySQL, read-only; sample data when unconfigured)',
    database: 'mysql',
    port: 4005,
    subgraph: () => import('../subgraphs/fit2000/subgraph.ts').then((m) => m.fit2000),
    compose: ['mysql'],
  }),
  {
    name: 'gateway',
    kind: 'gateway',
    summary: 'federated gateway: authentication, limits, the supergraph of every subgraph above',
    entry: 'gateway/main.ts',
    readyPath: '/readyz',
    listen: (c) => ({ host: c.ANGELIS_GATEWAY_HOST, port: c.ANGELIS_GATEWAY_PORT, url: endpointOf(c, 'gateway', { port: c.ANGELIS_GATEWAY_PORT, host: c.ANGELIS_GATEWAY_HOST })!.url, variable: 'ANGELIS_GATEWAY_PORT' }),
    compose: ['redis'],
  },
  {
    name: 'projector',
    kind: 'projector',
    summary: 'copies every domain with a lake contract into the Parquet lake, read-only',
    entry: 'bin/projector.ts',
    args: ['run'],
    readyPath: '/metrics',
    listen: (c) => ({
      host: c.ANGELIS_PROJECTOR_METRICS_HOST,
      port: c.ANGELIS_PROJECTOR_METRICS_PORT,
      url: `http://${c.ANGELIS_PROJECTOR_METRICS_HOST}:${c.ANGELIS_PROJECTOR_METRICS_PORT}/metrics`,
      variable: 'ANGELIS_PROJECTOR_METRICS_PORT',
    }),
    compose: ['azurite'],
    enabled: (c) => c.ANGELIS_PROJECTOR_ENABLED,
  },
];

/** The entries that are subgraphs (in the supergraph), in registry order. */
export const subgraphEntries = (): ServiceEntry[] => SERVICES.filter((s) => s.subgraph);

/** Every subgraph's definition, in registry order. */
export async function subgraphDefinitions(): Promise<AnySubgraph[]> {
  return Promise.all(subgraphEntries().map((s) => s.subgraph!()));
}

/** Every service's own configuration fragment: with them, loadConfig knows every variable. */
export async function configFragments(): Promise<ConfigFragment[]> {
  return (await subgraphDefinitions()).flatMap((d) => (d.config ? [d.config] : []));
}

/** The entry of a service, or an error listing the known ones. */
export function serviceNamed(name: string): ServiceEntry {
  const entry = SERVICES.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown service ${name}; known: ${SERVICES.map((s) => s.name).join(', ')}`);
  return entry;
}

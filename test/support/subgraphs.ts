import type { TagVersions } from '../../platform/response-cache/versions.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';
import { ciam, type CiamOptions } from '../../subgraphs/ciam/subgraph.ts';
import { safety, type SafetyOptions } from '../../subgraphs/safety/subgraph.ts';
import { fit2000 } from '../../subgraphs/fit2000/subgraph.ts';
import { saferapp } from '../../subgraphs/saferapp/subgraph.ts';
import type { SourceOptions } from '../../platform/sources/subgraph.ts';
import { workforce, type WorkforceOptions } from '../../subgraphs/workforce/subgraph.ts';

/** Workforce booted by the kit in this process, as its main.ts would (tests pass their database, port, pub/sub, key prefix, clock). */
export const startWorkforce = (config: Config, log: Logger, options: WorkforceOptions & { port?: number; cacheVersions?: TagVersions | null } = {}) => bootSubgraph(workforce, config, log, options);

/** CIAM booted by the kit in this process (tests inject its store, clock-bound settings and mailbox). */
export const startCiam = (config: Config, log: Logger, options: CiamOptions & { port?: number; cacheVersions?: TagVersions | null } = {}) => bootSubgraph(ciam, config, log, options);

/** Safety booted by the kit in this process (tests pass its PostgreSQL database, Workforce's URL, the relay's settings). */
export const startSafety = (config: Config, log: Logger, options: SafetyOptions & { port?: number } = {}) => bootSubgraph(safety, config, log, options);

export type SafetyService = Awaited<ReturnType<typeof startSafety>>;
export type WorkforceService = Awaited<ReturnType<typeof startWorkforce>>;
export type CiamService = Awaited<ReturnType<typeof startCiam>>;

/** The read-only source subgraphs booted by the kit in this process (tests pass the source to read). */
export const startSaferApp = (config: Config, log: Logger, options: SourceOptions & { port?: number } = {}) => bootSubgraph(saferapp, config, log, options);
export const startFit2000 = (config: Config, log: Logger, options: SourceOptions & { port?: number } = {}) => bootSubgraph(fit2000, config, log, options);
export type SourceService = Awaited<ReturnType<typeof startSaferApp>>;

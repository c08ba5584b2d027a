import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';
import { ciam, type CiamOptions } from '../../subgraphs/ciam/subgraph.ts';
import { workforce, type WorkforceOptions } from '../../subgraphs/workforce/subgraph.ts';

/** Workforce booted by the kit in this process, as its main.ts would (tests pass their database, port, pub/sub, key prefix, clock). */
export const startWorkforce = (config: Config, log: Logger, options: WorkforceOptions & { port?: number } = {}) => bootSubgraph(workforce, config, log, options);

/** CIAM booted by the kit in this process (tests inject its store, clock-bound settings and mailbox). */
export const startCiam = (config: Config, log: Logger, options: CiamOptions & { port?: number } = {}) => bootSubgraph(ciam, config, log, options);

export type WorkforceService = Awaited<ReturnType<typeof startWorkforce>>;
export type CiamService = Awaited<ReturnType<typeof startCiam>>;

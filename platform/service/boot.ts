import { endpointOf, type Config } from '../config.ts';
import { identitySecret } from '../auth/identity.ts';
import { CommandHandler } from '../event-store/command-handler.ts';
import type { RequestContext } from '../graphql/context.ts';
import { startSubgraph } from '../graphql/subgraph.ts';
import type { RunningServer } from '../http/server.ts';
import type { Logger } from '../logger.ts';
import type { Booted, Storage, SubgraphDefinition, TxOf } from './definition.ts';

/** A domain's parts without an HTTP server: what seeding and tools run commands with. */
export interface BootedDomain<S extends Storage, P, O> extends Booted<S, O> {
  parts: P;
  /** Stops the parts, then closes the storage. */
  close(): Promise<void>;
}

/** A running subgraph: the domain's parts (also spread at the top, for tools and tests) behind its HTTP server. */
export type RunningSubgraph<S extends Storage, P, O> = P &
  BootedDomain<S, P, O> & {
    name: string;
    server: RunningServer;
    /** Stops taking requests, lets in-flight ones finish, then closes everything. */
    stop(): Promise<void>;
  };

/** Opens a domain's storage and builds its parts (no server). */
export async function bootDomain<S extends Storage, P, C extends RequestContext, O extends object>(
  definition: SubgraphDefinition<S, P, C, O>,
  config: Config,
  log: Logger,
  options: O,
): Promise<BootedDomain<S, P, O>> {
  const storage = await definition.open(config, log, options);
  try {
    const handler = storage.store ? new CommandHandler<TxOf<S>>(storage.store as never, definition.handlerOptions) : null;
    const booted: Booted<S, O> = { config, log, storage, handler, options };
    const parts = await definition.setup(booted);
    return {
      ...booted,
      parts,
      async close() {
        await definition.stop?.(parts);
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
}

/**
 * Boots a subgraph in one call: storage and migrations, command handler, parts, then the
 * HTTP server (federation schema from its SDL, error masking, signed identity, /healthz,
 * /readyz on its storage). Listens on ANGELIS_<NAME>_HOST/_PORT, or `options.port`.
 */
export async function bootSubgraph<S extends Storage, P, C extends RequestContext, O extends object>(
  definition: SubgraphDefinition<S, P, C, O>,
  config: Config,
  log: Logger,
  options: O & { port?: number } = {} as O,
): Promise<RunningSubgraph<S, P, O>> {
  const domain = await bootDomain(definition, config, log, options);
  const endpoint = endpointOf(config, definition.name, { port: definition.defaultPort })!;
  let server: RunningServer;
  try {
    server = await startSubgraph<C>({
      name: definition.name,
      resolvers: definition.resolvers,
      host: endpoint.host,
      port: options.port ?? endpoint.port,
      nodeEnv: config.NODE_ENV,
      identitySecret: identitySecret(config),
      log,
      plugins: definition.plugins,
      routes: definition.routes?.(domain.parts, domain),
      context: (base, req) => definition.context(base, domain.parts, req),
      ready: () => domain.storage.ready(),
    });
  } catch (err) {
    await domain.close().catch(() => {});
    throw err;
  }
  log.info({ url: server.url, storage: domain.storage.store?.adapter ?? 'read-only' }, `${definition.name} subgraph listening`);
  return {
    ...domain.parts,
    ...domain,
    name: definition.name,
    server,
    async stop() {
      await server.stop();
      await domain.close();
    },
  };
}

import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { onShutdown } from '../../platform/process/shutdown.ts';
import { bootSubgraph } from '../../platform/service/boot.ts';
import { startGateway } from '../../gateway/server.ts';
import { ciam } from '../../subgraphs/ciam/subgraph.ts';
import { workforce } from '../../subgraphs/workforce/subgraph.ts';
import { PEER_KINDS, startPeer, type PeerKind } from './peers.ts';
import type { ServiceMessage, ServiceRequest } from './services.ts';

/**
 * A service (workforce, ciam, gateway or a peer gateway) as its own process for the benchmarks: the same
 * boot as its main.ts, plus
 * an IPC channel that reports the URL it listens on (so port 0 works) and the pool's
 * statement counter, and ends the process when the benchmark that spawned it goes away.
 */
const kind = process.argv[2];
const config = loadConfig(process.env, [ciam.config!]);
const log = createLogger(kind, config.ANGELIS_LOG_LEVEL);

let url: string;
let statements = () => 0;
let stop: () => Promise<void>;
if (kind === 'workforce') {
  const service = await bootSubgraph(workforce, config, log, {});
  ({ url } = service.server);
  statements = () => service.db.statements;
  stop = () => service.stop();
} else if (kind === 'ciam') {
  const service = await bootSubgraph(ciam, config, log, {});
  ({ url } = service.server);
  statements = () => service.db.statements;
  stop = () => service.stop();
} else if (kind === 'gateway') {
  const gateway = await startGateway(config, log);
  ({ url } = gateway);
  stop = () => gateway.stop();
} else if (PEER_KINDS.includes(kind as PeerKind)) {
  // A peer gateway for bench:gateway (bench/support/peers.ts).
  const peer = await startPeer(kind as PeerKind, config);
  ({ url } = peer);
  stop = () => peer.stop();
} else {
  throw new Error(`unknown service ${kind}`);
}
onShutdown(log, stop);

const send = (m: ServiceMessage) => process.send?.(m);
process.on('message', (m: ServiceRequest) => {
  if (m.type === 'statements') send({ type: 'statements', id: m.id, value: statements() });
});
// The benchmark died without stopping us: stop as if signalled.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
send({ type: 'ready', url });

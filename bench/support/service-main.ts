import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { onShutdown } from '../../platform/process/shutdown.ts';
import { startGateway } from '../../gateway/server.ts';
import { startCiam } from '../../subgraphs/ciam/service.ts';
import { startWorkforce } from '../../subgraphs/workforce/service.ts';
import type { ServiceMessage, ServiceRequest } from './services.ts';

/**
 * A service (workforce, ciam or gateway) as its own process for the benchmarks: the same
 * boot as its main.ts, plus
 * an IPC channel that reports the URL it listens on (so port 0 works) and the pool's
 * statement counter, and ends the process when the benchmark that spawned it goes away.
 */
const kind = process.argv[2];
const config = loadConfig();
const log = createLogger(kind, config.ANGELIS_LOG_LEVEL);

let url: string;
let statements = () => 0;
let stop: () => Promise<void>;
if (kind === 'workforce') {
  const service = await startWorkforce(config, log);
  ({ url } = service.server);
  statements = () => service.db.statements;
  stop = () => service.stop();
} else if (kind === 'ciam') {
  const service = await startCiam(config, log);
  ({ url } = service.server);
  statements = () => service.db.statements;
  stop = () => service.stop();
} else if (kind === 'gateway') {
  const gateway = await startGateway(config, log);
  ({ url } = gateway);
  stop = () => gateway.stop();
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

import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { onShutdown } from '../platform/process/shutdown.ts';
import { startGateway } from './server.ts';

const config = loadConfig();
const log = createLogger('gateway', config.ANGELIS_LOG_LEVEL);
const gateway = await startGateway(config, log);
onShutdown(log, () => gateway.stop(), config.ANGELIS_SUPERVISOR_PID);

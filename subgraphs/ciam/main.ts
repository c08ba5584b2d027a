import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { onShutdown } from '../../platform/process/shutdown.ts';
import { startCiam } from './service.ts';

const config = loadConfig();
const log = createLogger('ciam', config.ANGELIS_LOG_LEVEL);
const service = await startCiam(config, log);
onShutdown(log, () => service.stop(), config.ANGELIS_SUPERVISOR_PID);

import type { Logger } from '../logger.ts';

/**
 * Stops the service cleanly on SIGINT/SIGTERM or when its supervisor goes away: runs `stop` once, then exits 0; a second
 * signal, or a stop that hangs past `graceMs`, exits 1.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, supervisorPid?: number, graceMs = 10_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error('stop took too long; exiting');
      process.exit(1);
    }, graceMs).unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Started by `npm start`: if the supervisor dies (even by SIGKILL) this service stops
  // instead of lingering on its port (polled by pid: no IPC channel is assumed).
  if (supervisorPid) {
    setInterval(() => {
      try {
        process.kill(supervisorPid, 0);
      } catch {
        log.warn({ supervisorPid }, 'supervisor is gone');
        handler('SIGTERM');
      }
    }, 1_000).unref();
  }
}

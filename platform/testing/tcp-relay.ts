import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

/**
 * A TCP relay on 127.0.0.1 in front of `target` that a test can cut and restore, as a
 * network failure would: `cut()` closes the listener and destroys every open connection;
 * `restore()` listens again on the same port, so clients reconnect to the same address.
 */
export interface TcpRelay {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export async function tcpRelay(target: { host: string; port: number }): Promise<TcpRelay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await listen();
  return {
    port,
    async cut() {
      const open = server;
      server = null;
      if (!open) return;
      const closed = new Promise<void>((r) => open.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: listen,
  };
}

/** The host and port of a redis:// URL (6379 when it names none). */
export function redisTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

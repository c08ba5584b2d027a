import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script as a command of the client (ioredis `defineCommand`): its text goes to each
 * connection once (EVAL), then only its SHA1 (EVALSHA; sent again as EVAL if the server
 * lost it, e.g. after SCRIPT FLUSH or a restart). Sending the whole text with every call
 * cost bytes on the wire and a digest on the server for each rate-limit step and each
 * cache count read.
 */
export function luaScript<R>(lua: string): (client: Redis, keys: readonly string[], args?: readonly (string | number)[]) => Promise<R> {
  const name = `angelis_${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
  return (client, keys, args = []) => {
    const commands = client as unknown as Record<string, (...a: unknown[]) => Promise<R>>;
    if (typeof commands[name] !== 'function') client.defineCommand(name, { lua });
    // No numberOfKeys in the definition: the key count is the first argument.
    return commands[name](keys.length, ...keys, ...args);
  };
}

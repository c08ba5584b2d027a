import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, configFragment, endpointOf, fragmentOf, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('fills defaults: embedded PostgreSQL (no host), pool 10 + 20 overflow, gateway on 4000', () => {
    const c = loadConfig({});
    expect(c.ANGELIS_POSTGRES_DB_HOST).toBeUndefined();
    expect(c.ANGELIS_POSTGRES_DB_NAME).toBe('angelis_workforce');
    expect([c.ANGELIS_POSTGRES_POOL_SIZE, c.ANGELIS_POSTGRES_POOL_OVERFLOW]).toEqual([10, 20]);
    expect(c.ANGELIS_GATEWAY_PORT).toBe(4000);
    expect(c.NODE_ENV).toBe('development');
  });

  it('reads and coerces what is set; an empty value counts as unset', () => {
    const c = loadConfig({ ANGELIS_POSTGRES_DB_HOST: 'db.internal', ANGELIS_POSTGRES_DB_PORT: '6543', ANGELIS_SEED: 'false', ANGELIS_POSTGRES_DB_PASSWORD: '' });
    expect(c.ANGELIS_POSTGRES_DB_HOST).toBe('db.internal');
    expect(c.ANGELIS_POSTGRES_DB_PORT).toBe(6543);
    expect(c.ANGELIS_SEED).toBe(false);
    expect(c.ANGELIS_POSTGRES_DB_PASSWORD).toBeUndefined();
  });

  it('names every wrong variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ ANGELIS_POSTGRES_DB_PORT: 'five', ANGELIS_GATEWAY_PORT: '70000', ANGELIS_POSTGRES_DB_NAME: 'Bad-Name' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['ANGELIS_POSTGRES_DB_PORT', 'ANGELIS_GATEWAY_PORT', 'ANGELIS_POSTGRES_DB_NAME']) expect(message).toContain(name);
  });

  it('refuses an unknown ANGELIS_ variable, so a typo is not silently ignored', () => {
    expect(() => loadConfig({ ANGELIS_POSTGRES_HOST: 'x' })).toThrow(/ANGELIS_POSTGRES_HOST: unknown variable/);
  });

  it('reads any service\'s endpoint (ANGELIS_<NAME>_HOST/_PORT/_URL), validated by kind, with defaults when unset', () => {
    const c = loadConfig({ ANGELIS_SAFETY_PORT: '4100', ANGELIS_SAFETY_HOST: '0.0.0.0', ANGELIS_FIT2000_URL: 'http://fit:4200/graphql' });
    expect(endpointOf(c, 'safety', { port: 4003 })).toEqual({ host: '0.0.0.0', port: 4100, url: 'http://0.0.0.0:4100/graphql' });
    expect(endpointOf(c, 'fit2000')).toEqual({ host: '127.0.0.1', port: 4200, url: 'http://fit:4200/graphql' });
    expect(endpointOf(c, 'workforce', { port: 4001 })).toEqual({ host: '127.0.0.1', port: 4001, url: 'http://127.0.0.1:4001/graphql' });
    expect(endpointOf(c, 'nobody')).toBeNull();
    expect(() => loadConfig({ ANGELIS_SAFETY_PORT: 'high', ANGELIS_SAFETY_URL: 'not a url' })).toThrow(/ANGELIS_SAFETY_PORT.*\n.*ANGELIS_SAFETY_URL/);
  });

  it('a service\'s own fragment is validated and typed; another service\'s variables are its own business unless every fragment is known', () => {
    const fragment = configFragment(['SAFETY'], { ANGELIS_SAFETY_DB_NAME: z.string().default('angelis_safety') });
    expect(fragmentOf(loadConfig({}, [fragment]), fragment).ANGELIS_SAFETY_DB_NAME).toBe('angelis_safety');
    expect(fragmentOf(loadConfig({ ANGELIS_SAFETY_DB_NAME: 'x' }, [fragment]), fragment).ANGELIS_SAFETY_DB_NAME).toBe('x');
    // A typo under a prefix this process owns stops it; a foreign prefix is left to its owner...
    expect(() => loadConfig({ ANGELIS_SAFETY_DB_NAM: 'x' }, [fragment])).toThrow(/ANGELIS_SAFETY_DB_NAM: unknown variable/);
    expect(() => loadConfig({ ANGELIS_FIT2000_DB_HOST: 'x' }, [fragment])).not.toThrow();
    // ...except where every fragment is known (npm start, the other top-level commands).
    expect(() => loadConfig({ ANGELIS_FIT2000_DB_HOST: 'x' }, [fragment], { complete: true })).toThrow(/ANGELIS_FIT2000_DB_HOST: unknown variable/);
    expect(() => loadConfig({ ANGELIS_SAFETY_DB_NAME: '' }, [fragment])).not.toThrow();
    const secret = configFragment(['SAFETY'], { ANGELIS_SAFETY_SECRET: z.string().optional() }, ['ANGELIS_SAFETY_SECRET']);
    const production = { NODE_ENV: 'production', ANGELIS_IDENTITY_SECRET: 'i'.repeat(32), ANGELIS_PSEUDONYM_KEY: 'p'.repeat(16) };
    expect(() => loadConfig(production, [secret])).toThrow(/ANGELIS_SAFETY_SECRET="": required in production/);
    expect(() => loadConfig({ ...production, ANGELIS_SAFETY_SECRET: 's' }, [secret])).not.toThrow();
  });
});

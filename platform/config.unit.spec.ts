import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

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
});

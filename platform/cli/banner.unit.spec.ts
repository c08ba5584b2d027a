import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { gatewayUrl, startBanner } from './banner.ts';

const production = {
  NODE_ENV: 'production',
  ANGELIS_IDENTITY_SECRET: 'x'.repeat(32),
  ANGELIS_CIAM_KEY_SECRET: 'y'.repeat(32),
  ANGELIS_PSEUDONYM_KEY: 'z'.repeat(16),
};

describe('the npm start banner', () => {
  it('names the host the gateway listens on, 127.0.0.1 by default, not localhost', () => {
    const banner = startBanner({ config: loadConfig({ ANGELIS_GATEWAY_PORT: '4100' }), subgraphs: [{ name: 'workforce', url: 'http://127.0.0.1:4001/graphql' }], embeddedPostgres: { port: 54329, dataDir: '.angelis/postgres' }, loginLines: [] });
    expect(banner).toContain('Subgraph workforce http://127.0.0.1:4001/graphql');
    expect(banner).toContain('GraphQL gateway   http://127.0.0.1:4100/graphql');
    expect(banner).toContain('curl -s http://127.0.0.1:4100/graphql');
    expect(banner).not.toContain('localhost');
  });

  it('follows ANGELIS_GATEWAY_HOST, with IPv6 in brackets', () => {
    expect(gatewayUrl(loadConfig({ ANGELIS_GATEWAY_HOST: '10.1.2.3', ANGELIS_GATEWAY_PORT: '80' }))).toBe('http://10.1.2.3:80/graphql');
    expect(gatewayUrl(loadConfig({ ANGELIS_GATEWAY_HOST: '::1' }))).toBe('http://[::1]:4000/graphql');
  });

  it('in development shows the development header and the seeded logins', () => {
    const banner = startBanner({ config: loadConfig({}), subgraphs: [], embeddedPostgres: null, loginLines: ['Log in as admin'] });
    expect(banner).toContain('x-angelis-dev-user');
    expect(banner).toContain('Log in as admin');
  });

  it('in production shows neither the development header, which production ignores, nor logins', () => {
    const banner = startBanner({ config: loadConfig(production), subgraphs: [], embeddedPostgres: null, loginLines: ['Log in as admin'] });
    expect(banner).toContain('Angelis is running');
    expect(banner).not.toMatch(/x-angelis-dev|curl|Log in as admin/);
    expect(banner).toContain('authorization: Bearer');
  });
});

import type { Config } from '../config.ts';

/** `http://host:port/graphql` for a listen address (IPv6 in brackets), as a client would type it. */
export function graphqlUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
}

/** The gateway's URL where it really listens (ANGELIS_GATEWAY_HOST, 127.0.0.1 by default). */
export function gatewayUrl(config: Config): string {
  return graphqlUrl(config.ANGELIS_GATEWAY_HOST, config.ANGELIS_GATEWAY_PORT);
}

export interface BannerInput {
  /** The configuration the services run with. */
  config: Config;
  /** Every subgraph and the URL it is reached at, in registry order. */
  subgraphs: { name: string; url: string }[];
  /** The embedded server, when `npm start` runs one. */
  embeddedPostgres: { port: number; dataDir: string } | null;
  /** How to sign in as each seeded account (development only), one line each. */
  loginLines: string[];
}

/**
 * What `npm start` prints once everything answers: where each service listens, and outside
 * production how to try it (the development header, the seeded logins). Production gets
 * no example that would only be refused there.
 */
export function startBanner({ config, subgraphs, embeddedPostgres, loginLines }: BannerInput): string {
  const url = gatewayUrl(config);
  const production = config.NODE_ENV === 'production';
  const lake = config.ANGELIS_PROJECTOR_ENABLED
    ? `${config.ANGELIS_LAKE_URL ?? config.ANGELIS_LAKE_DIR} (npm run projector -- status | query "SQL")`
    : 'projector off (ANGELIS_PROJECTOR_ENABLED=false)';
  const postgres = embeddedPostgres
    ? `embedded, 127.0.0.1:${embeddedPostgres.port} (data in ${embeddedPostgres.dataDir})`
    : `${config.ANGELIS_POSTGRES_DB_HOST}:${config.ANGELIS_POSTGRES_DB_PORT}`;
  const lines = [
    '',
    '  Angelis is running.',
    '',
    `    GraphQL gateway   ${url}`,
    ...subgraphs.map((s) => `    ${`Subgraph ${s.name}`.padEnd(17)} ${s.url}`),
    `    Data lake         ${lake}`,
    `    PostgreSQL        ${postgres}`,
    '',
  ];
  if (!production) {
    lines.push(
      '  Try it with the development identity header (ADMIN; never in production):',
      '',
      `    curl -s ${url} -H 'content-type: application/json' -H 'x-angelis-dev-user: you@example.com' \\`,
      `      -d '{"query":"{ companies(first: 3) { nodes { name projects(first: 2) { nodes { faenaCode name } } } } licenses(expiringWithinDays: 30, first: 3) { nodes { type expiresOn profile { fullName rut } } } }"}'`,
      '',
    );
    if (loginLines.length) lines.push(...loginLines.map((l) => `  ${l}`), '  Then send the access token as "authorization: Bearer <token>".', '');
  } else {
    lines.push('  Production: send an access token from CIAM as "authorization: Bearer <token>".', '');
  }
  lines.push('  Ctrl-C stops everything.', '');
  return lines.join('\n');
}

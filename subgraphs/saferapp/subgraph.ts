import { z } from 'zod';
import { configFragment, fragmentOf } from '../../platform/config.ts';
import { SqlResultSource } from '../../platform/sources/adapter.ts';
import { parseMapping, type ResultMapping } from '../../platform/sources/mapping.ts';
import { sqlServerDriver } from '../../platform/sources/sqlserver.ts';
import { defineSourceSubgraph } from '../../platform/sources/subgraph.ts';
import { resolvers } from './resolvers.ts';

/** SaferApp's own variables: its SQL Server (the seed's ANGELIS_SQLSERVER_* names) and its table's names. */
export const saferAppConfig = configFragment(['SAFERAPP', 'SQLSERVER'], {
  /** Unset: sample data in development, SOURCE_UNAVAILABLE in production. */
  ANGELIS_SQLSERVER_DB_HOST: z.string().min(1).optional(),
  ANGELIS_SQLSERVER_DB_PORT: z.coerce.number().int().min(1).max(65535).default(1433),
  ANGELIS_SQLSERVER_DB_NAME: z.string().min(1).default('saferapp'),
  ANGELIS_SQLSERVER_DB_USER: z.string().min(1).optional(),
  ANGELIS_SQLSERVER_DB_PASSWORD: z.string().optional(),
  ANGELIS_SQLSERVER_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  ANGELIS_SQLSERVER_POOL_SIZE: z.coerce.number().int().positive().default(10),
  ANGELIS_SQLSERVER_POOL_OVERFLOW: z.coerce.number().int().min(0).default(20),
  /** JSON merged over the default mapping (see README, "External sources"). */
  ANGELIS_SAFERAPP_MAPPING: z.string().optional(),
});

/** SaferApp's table as the integrator ships it: `bi_saferapp(id, rut, faena, fecha_test, resultado)`. */
export const SAFERAPP_DEFAULT_MAPPING: ResultMapping = {
  table: 'bi_saferapp',
  join: null,
  columns: {
    id: 'bi_saferapp.id',
    rut: 'bi_saferapp.rut',
    faena: 'bi_saferapp.faena',
    takenAt: 'bi_saferapp.fecha_test',
    result: 'bi_saferapp.resultado',
    score: null,
    updatedAt: null,
  },
  results: { APPROVED: ['APROBADO', 'APTO'], REJECTED: ['RECHAZADO', 'NO APTO'], PENDING: ['PENDIENTE'] },
};

/** SaferApp (SQL Server, external, read-only): `Profile.saferAppResults` and `Project.saferAppResults`. */
export const saferapp = defineSourceSubgraph({
  name: 'saferapp',
  provider: 'SAFERAPP',
  sourceName: 'SaferApp',
  resolvers,
  defaultPort: 4004,
  config: saferAppConfig,
  open(config, log) {
    const c = fragmentOf(config, saferAppConfig);
    if (!c.ANGELIS_SQLSERVER_DB_HOST) return null;
    const mapping = parseMapping(SAFERAPP_DEFAULT_MAPPING, c.ANGELIS_SAFERAPP_MAPPING, 'ANGELIS_SAFERAPP_MAPPING');
    const driver = sqlServerDriver({
      host: c.ANGELIS_SQLSERVER_DB_HOST,
      port: c.ANGELIS_SQLSERVER_DB_PORT,
      database: c.ANGELIS_SQLSERVER_DB_NAME,
      user: c.ANGELIS_SQLSERVER_DB_USER,
      password: c.ANGELIS_SQLSERVER_DB_PASSWORD,
      connectTimeoutMs: c.ANGELIS_SQLSERVER_CONNECT_TIMEOUT_MS,
      poolSize: c.ANGELIS_SQLSERVER_POOL_SIZE,
      poolOverflow: c.ANGELIS_SQLSERVER_POOL_OVERFLOW,
    });
    return new SqlResultSource('SAFERAPP', { driver, mapping, mappingVariable: 'ANGELIS_SAFERAPP_MAPPING', sourceName: 'SaferApp', log });
  },
});

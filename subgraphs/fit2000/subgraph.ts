import { z } from 'zod';
import { configFragment, fragmentOf } from '../../platform/config.ts';
import { SqlResultSource } from '../../platform/sources/adapter.ts';
import { parseMapping, type ResultMapping } from '../../platform/sources/mapping.ts';
import { mysqlDriver } from '../../platform/sources/mysql.ts';
import { defineSourceSubgraph } from '../../platform/sources/subgraph.ts';
import { resolvers } from './resolvers.ts';

/** Fit2000's own variables: where its MySQL is, and how its tables are named. */
export const fit2000Config = configFragment(['FIT2000'], {
  /** Unset: sample data in development, SOURCE_UNAVAILABLE in production. */
  ANGELIS_FIT2000_DB_HOST: z.string().min(1).optional(),
  ANGELIS_FIT2000_DB_PORT: z.coerce.number().int().min(1).max(65535).default(3306),
  ANGELIS_FIT2000_DB_NAME: z.string().min(1).default('fit2000'),
  ANGELIS_FIT2000_DB_USER: z.string().min(1).default('angelis_reader'),
  ANGELIS_FIT2000_DB_PASSWORD: z.string().optional(),
  ANGELIS_FIT2000_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  ANGELIS_FIT2000_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** JSON merged over the default mapping (see README, "External sources"). */
  ANGELIS_FIT2000_MAPPING: z.string().optional(),
});

/** Fit2000's tables as the integrator ships them: results in `ktest`, people and faenas in `usuario_faena`. */
export const FIT2000_DEFAULT_MAPPING: ResultMapping = {
  table: 'ktest',
  join: { table: 'usuario_faena', on: ['user_id', 'user_id'] },
  columns: {
    id: 'ktest.id',
    rut: 'usuario_faena.rut',
    faena: 'usuario_faena.faena',
    takenAt: 'ktest.fecha',
    result: 'ktest.resultado',
    score: 'ktest.puntaje',
    updatedAt: 'ktest.updated_at',
  },
  results: { APPROVED: ['APROBADO', 'APTO'], REJECTED: ['RECHAZADO', 'NO APTO'], PENDING: ['PENDIENTE'] },
};

/** Fit2000 (MySQL, external, read-only): `Profile.fit2000Results` and `Project.fit2000Results`. */
export const fit2000 = defineSourceSubgraph({
  name: 'fit2000',
  provider: 'FIT2000',
  sourceName: 'Fit2000',
  resolvers,
  defaultPort: 4005,
  config: fit2000Config,
  open(config, log) {
    const c = fragmentOf(config, fit2000Config);
    if (!c.ANGELIS_FIT2000_DB_HOST) return null;
    const mapping = parseMapping(FIT2000_DEFAULT_MAPPING, c.ANGELIS_FIT2000_MAPPING, 'ANGELIS_FIT2000_MAPPING');
    const driver = mysqlDriver({
      host: c.ANGELIS_FIT2000_DB_HOST,
      port: c.ANGELIS_FIT2000_DB_PORT,
      database: c.ANGELIS_FIT2000_DB_NAME,
      user: c.ANGELIS_FIT2000_DB_USER,
      password: c.ANGELIS_FIT2000_DB_PASSWORD,
      connectTimeoutMs: c.ANGELIS_FIT2000_CONNECT_TIMEOUT_MS,
      poolSize: c.ANGELIS_FIT2000_POOL_SIZE,
    });
    return new SqlResultSource('FIT2000', { driver, mapping, mappingVariable: 'ANGELIS_FIT2000_MAPPING', sourceName: 'Fit2000', log });
  },
});

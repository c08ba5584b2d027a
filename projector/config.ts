import { z } from 'zod';
import { ConfigError } from '../platform/config.ts';

/**
 * The projector's ANGELIS_* variables, as zod fields in platform/config.ts's style.
 * `projectorConfigShape` is meant to be merged into platform/config.ts's schema; until
 * then `loadProjectorConfig` reads them on its own.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const projectorConfigShape = {
  ANGELIS_PROJECTOR_ENABLED: flag.default(true),
  /** Local lake folder, used when no Azure lake is configured. */
  ANGELIS_LAKE_DIR: z.string().min(1).default('lake'),
  /**
   * Azure lake: the Blob endpoint URL of the container, e.g.
   * `https://acct.blob.core.windows.net/lake`, `abfss://lake@acct.dfs.core.windows.net`,
   * or Azurite's path style `http://127.0.0.1:10000/devstoreaccount1/lake`.
   */
  ANGELIS_LAKE_URL: z.string().url().optional(),
  /** Alternative to the URL: account and container (the endpoint is the public cloud's). */
  ANGELIS_LAKE_AZURE_ACCOUNT: z.string().min(1).optional(),
  ANGELIS_LAKE_AZURE_CONTAINER: z.string().min(3).optional(),
  /** The account's shared key (base64). */
  ANGELIS_LAKE_AZURE_KEY: z.string().min(1).optional(),
  /** HMAC key for RUT/email/phone pseudonyms; required in production. */
  ANGELIS_PSEUDONYM_KEY: z.string().min(16, 'at least 16 characters').optional(),
  /** Prometheus metrics port; 0 picks a free port. */
  ANGELIS_PROJECTOR_METRICS_PORT: port.default(9464),
  ANGELIS_PROJECTOR_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  ANGELIS_PROJECTOR_BATCH_SIZE: positiveInt.max(500_000).default(50_000),
  /** A lease not renewed within this time may be taken by another instance. */
  ANGELIS_PROJECTOR_LEASE_TTL_MS: positiveInt.min(1_000).default(15_000),
  /** Fallback poll when no NOTIFY arrives (e.g. a writer that does not notify). */
  ANGELIS_PROJECTOR_POLL_MS: positiveInt.default(1_000),
  /** Compact a partition once it holds at least this many files. */
  ANGELIS_PROJECTOR_COMPACT_MIN_FILES: z.coerce.number().int().min(2).default(24),
  /** How often the running projector looks for partitions to compact; 0 turns it off. */
  ANGELIS_PROJECTOR_COMPACT_INTERVAL_MS: z.coerce.number().int().min(0).default(600_000),
  /** Scratch folder for CSV batches and Parquet before upload (default: inside the OS temp dir). */
  ANGELIS_PROJECTOR_WORK_DIR: z.string().min(1).optional(),
};

const schema = z
  .object({ NODE_ENV: z.enum(['development', 'production', 'test']).default('development'), ...projectorConfigShape })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.ANGELIS_PSEUDONYM_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ANGELIS_PSEUDONYM_KEY'], message: 'required in production' });
    }
    const azure = c.ANGELIS_LAKE_URL || c.ANGELIS_LAKE_AZURE_ACCOUNT || c.ANGELIS_LAKE_AZURE_CONTAINER;
    if (azure && !c.ANGELIS_LAKE_AZURE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['ANGELIS_LAKE_AZURE_KEY'], message: 'required with an Azure lake' });
    }
    if (!c.ANGELIS_LAKE_URL && (c.ANGELIS_LAKE_AZURE_ACCOUNT ? !c.ANGELIS_LAKE_AZURE_CONTAINER : c.ANGELIS_LAKE_AZURE_CONTAINER)) {
      ctx.addIssue({ code: 'custom', path: ['ANGELIS_LAKE_AZURE_CONTAINER'], message: 'account and container go together' });
    }
  });

export type ProjectorConfig = z.infer<typeof schema>;

/** The projector's own variables (others are ignored: platform/config.ts checks those). */
export function loadProjectorConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
    }),
  );
}

/** The key used when none is configured outside production; pseudonyms made with it are not secret. */
export const DEVELOPMENT_PSEUDONYM_KEY = 'angelis-development-only-pseudonym-key';

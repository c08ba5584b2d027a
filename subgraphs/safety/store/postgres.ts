import type pg from 'pg';
import type { Db, Queryable } from '../../../platform/postgres/pool.ts';
import type { Migration } from '../../../platform/postgres/migrate.ts';
import type { Checkpoint, RecordedEvent } from '../../../platform/event-store/types.ts';
import type { Page } from '../../../platform/graphql/pagination.ts';
import { applyEvent, documentOf, type AnyDocument, type DocumentKind, type DocumentOf } from './documents.ts';
import type { SafetyStore, Where } from './port.ts';

/** Safety's documents as jsonb, beside the events table of the same database. */
export const safetyDocumentsMigration: Migration = {
  version: 2,
  name: 'safety documents',
  sql: `
CREATE TABLE safety_documents (
  kind     text   NOT NULL,
  id       uuid   NOT NULL,
  position bigint NOT NULL,
  doc      jsonb  NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX safety_documents_project ON safety_documents (kind, (doc ->> 'projectId'), position);
CREATE INDEX safety_documents_profile ON safety_documents (kind, (doc ->> 'profileId'), position);
CREATE INDEX safety_documents_company ON safety_documents (kind, (doc ->> 'companyId'), position);
CREATE TABLE safety_checkpoints (
  name            text   PRIMARY KEY,
  transaction_id  text   NOT NULL,
  global_position bigint NOT NULL
);
`,
};

/** Fields `listBy` may group on: each has an index above. */
const LISTABLE = new Set(['projectId', 'profileId', 'companyId']);

/** The Safety store port on PostgreSQL (see port.ts). */
export class PostgresSafetyStore implements SafetyStore<pg.PoolClient> {
  readonly adapter = 'postgres' as const;
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  async project(tx: pg.PoolClient, events: RecordedEvent[]): Promise<void> {
    // Documents of this batch as they stand after each event: a batch may hold several events of one document.
    const current = new Map<string, AnyDocument>();
    for (const event of events) {
      const target = documentOf(event);
      if (!target) continue;
      const key = `${target.kind}:${target.id}`;
      const before = current.get(key) ?? (await this.get(target.kind, [target.id], tx))[0] ?? null;
      current.set(key, applyEvent(before, event));
    }
    if (current.size === 0) return;
    const docs = [...current.entries()];
    await tx.query(
      `INSERT INTO safety_documents (kind, id, position, doc)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::jsonb[])
       ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc`,
      [docs.map(([k]) => k.split(':')[0]), docs.map(([, d]) => d.id), docs.map(([, d]) => d.position), docs.map(([, d]) => JSON.stringify(d))],
    );
  }

  async get<K extends DocumentKind>(kind: K, ids: readonly string[], tx?: pg.PoolClient): Promise<DocumentOf[K][]> {
    const q: Queryable = tx ?? this.db.pool;
    const { rows } = await q.query<{ doc: DocumentOf[K] }>('SELECT doc FROM safety_documents WHERE kind = $1 AND id::text = ANY($2::text[])', [kind, ids]);
    return rows.map((r) => r.doc);
  }

  async listBy<K extends DocumentKind>(kind: K, field: string, values: readonly string[], where: Where, page: Page): Promise<Map<string, DocumentOf[K][]>> {
    if (!LISTABLE.has(field)) throw new Error(`safety documents cannot be listed by ${field}`);
    // field is one of LISTABLE (a constant), never caller text; values and filters are parameters.
    const { rows } = await this.db.query<{ key: string; doc: DocumentOf[K] }>(
      `SELECT v.key, d.doc FROM unnest($2::text[]) AS v(key)
       CROSS JOIN LATERAL (
         SELECT doc FROM safety_documents
         WHERE kind = $1 AND doc ->> '${field}' = v.key AND doc @> $3::jsonb AND position > $4
         ORDER BY position LIMIT $5
       ) d`,
      [kind, values, JSON.stringify(where), page.afterPosition, page.limit],
    );
    const out = new Map<string, DocumentOf[K][]>(values.map((v) => [v, []]));
    for (const r of rows) out.get(r.key)!.push(r.doc);
    return out;
  }

  async loadCheckpoint(name: string): Promise<Checkpoint | null> {
    const { rows } = await this.db.query<{ transaction_id: string; global_position: string }>('SELECT transaction_id, global_position FROM safety_checkpoints WHERE name = $1', [name]);
    return rows[0] ? { transactionId: rows[0].transaction_id, globalPosition: Number(rows[0].global_position) } : null;
  }

  async saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.db.query(
      `INSERT INTO safety_checkpoints (name, transaction_id, global_position) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`,
      [name, checkpoint.transactionId, checkpoint.globalPosition],
    );
  }

  async clear(tx?: pg.PoolClient): Promise<void> {
    await (tx ?? this.db.pool).query('TRUNCATE safety_documents');
  }
}

import type { ClientSession, Collection, Db, IndexDescription } from 'mongodb';
import type { Checkpoint, RecordedEvent } from '../../../platform/event-store/types.ts';
import type { Page } from '../../../platform/graphql/pagination.ts';
import { applyEvent, documentOf, type AnyDocument, type DocumentKind, type DocumentOf } from './documents.ts';
import type { SafetyStore, Where } from './port.ts';

/**
 * The Safety store port on MongoDB: collection `safety_documents`, one document per
 * template, form and anomaly (`_id` = `<kind>:<id>`, the document's fields at the top level
 * beside `kind`), written in the event store's transaction (the session); reactors'
 * checkpoints in `safety_checkpoints`.
 */
export type StoredDocument = AnyDocument & { _id: string; kind: DocumentKind };

export const DOCUMENT_INDEXES: IndexDescription[] = [
  { key: { kind: 1, projectId: 1, position: 1 }, name: 'kind_project_position' },
  { key: { kind: 1, profileId: 1, position: 1 }, name: 'kind_profile_position' },
  { key: { kind: 1, companyId: 1, position: 1 }, name: 'kind_company_position' },
];

const LISTABLE = new Set(['projectId', 'profileId', 'companyId']);
const HIDE = { _id: 0, kind: 0 } as const;

/** The pipeline of listBy: one match on every value, position order, then the first `limit` per value. */
export function listByPipeline(kind: DocumentKind, field: string, values: readonly string[], where: Where, page: Page): object[] {
  return [
    { $match: { ...where, kind, [field]: { $in: [...values] }, position: { $gt: page.afterPosition } } },
    { $sort: { position: 1 } },
    { $group: { _id: `$${field}`, docs: { $firstN: { input: '$$ROOT', n: page.limit } } } },
  ];
}

export class MongoSafetyStore implements SafetyStore<ClientSession> {
  readonly adapter = 'mongodb' as const;
  readonly documents: Collection<StoredDocument>;
  readonly checkpoints: Collection<{ _id: string; transactionId: string; globalPosition: number }>;

  constructor(db: Pick<Db, 'collection'>) {
    this.documents = db.collection<StoredDocument>('safety_documents');
    this.checkpoints = db.collection('safety_checkpoints');
  }

  async migrate(): Promise<void> {
    await this.documents.createIndexes(DOCUMENT_INDEXES);
  }

  async project(session: ClientSession, events: RecordedEvent[]): Promise<void> {
    const current = new Map<string, { kind: DocumentKind; doc: AnyDocument }>();
    for (const event of events) {
      const target = documentOf(event);
      if (!target) continue;
      const key = `${target.kind}:${target.id}`;
      const before = current.get(key)?.doc ?? (await this.get(target.kind, [target.id], session))[0] ?? null;
      current.set(key, { kind: target.kind, doc: applyEvent(before, event) });
    }
    if (current.size === 0) return;
    await this.documents.bulkWrite(
      [...current.entries()].map(([key, { kind, doc }]) => ({
        replaceOne: { filter: { _id: key }, replacement: { ...doc, _id: key, kind } as StoredDocument, upsert: true },
      })),
      { session, ordered: true },
    );
  }

  async get<K extends DocumentKind>(kind: K, ids: readonly string[], session?: ClientSession): Promise<DocumentOf[K][]> {
    const docs = await this.documents.find({ _id: { $in: ids.map((id) => `${kind}:${id}`) } }, { projection: HIDE, ...(session ? { session } : {}) }).toArray();
    return docs as unknown as DocumentOf[K][];
  }

  async listBy<K extends DocumentKind>(kind: K, field: string, values: readonly string[], where: Where, page: Page): Promise<Map<string, DocumentOf[K][]>> {
    if (!LISTABLE.has(field)) throw new Error(`safety documents cannot be listed by ${field}`);
    const out = new Map<string, DocumentOf[K][]>(values.map((v) => [v, []]));
    if (values.length === 0) return out;
    const groups = await this.documents.aggregate<{ _id: string; docs: StoredDocument[] }>(listByPipeline(kind, field, values, where, page)).toArray();
    for (const g of groups) {
      out.set(g._id, g.docs.map(({ _id, kind: _k, ...doc }) => doc as unknown as DocumentOf[K]));
    }
    return out;
  }

  async loadCheckpoint(name: string): Promise<Checkpoint | null> {
    const found = await this.checkpoints.findOne({ _id: name });
    return found ? { transactionId: found.transactionId, globalPosition: found.globalPosition } : null;
  }

  async saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.checkpoints.updateOne({ _id: name }, { $set: { transactionId: checkpoint.transactionId, globalPosition: checkpoint.globalPosition } }, { upsert: true });
  }

  async clear(session?: ClientSession): Promise<void> {
    await this.documents.deleteMany({}, session ? { session } : {});
  }
}

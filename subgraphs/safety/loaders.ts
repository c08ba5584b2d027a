import DataLoader from 'dataloader';
import type { Identity } from '../../platform/auth/identity.ts';
import type { EventStore } from '../../platform/event-store/port.ts';
import { auditTrailLoaders } from '../../platform/graphql/audit-trail.ts';
import { byKey, perArgs } from '../../platform/graphql/loaders.ts';
import type { Page } from '../../platform/graphql/pagination.ts';
import type { AnomalyDoc, DocumentKind, DocumentOf, FormDoc, TemplateDoc } from './store/documents.ts';
import type { SafetyStore, Where } from './store/port.ts';
import type { WorkforceLookups } from './workforce.ts';

/** Per-request loaders: every document read and list costs one round trip per batch. */
export function createLoaders(store: SafetyStore<unknown>, events: Pick<EventStore, 'readBySubjects'>) {
  const docs = <K extends DocumentKind>(kind: K) => byKey<string, DocumentOf[K]>((ids) => store.get(kind, ids), (d) => d.id);
  const lists = <K extends DocumentKind>(kind: K, field: string) =>
    perArgs((a: { where: Where; page: Page }) =>
      new DataLoader<string, DocumentOf[K][]>(async (keys) => {
        const found = await store.listBy(kind, field, keys, a.where, a.page);
        return keys.map((k) => found.get(k) ?? []);
      }),
    );
  return {
    template: docs('template'),
    form: docs('form'),
    anomaly: docs('anomaly'),
    anomaliesByProject: lists('anomaly', 'projectId'),
    formsByProject: lists('form', 'projectId'),
    formsByProfile: lists('form', 'profileId'),
    templatesByCompany: lists('template', 'companyId'),
    auditTrail: auditTrailLoaders(events),
  };
}
export type SafetyLoaders = ReturnType<typeof createLoaders>;

/**
 * Who sees what in Safety, the same rules as the rest of the graph: an ADMIN everything; a
 * MANAGER their own company's; a WORKER their own forms, and the anomalies and templates of
 * projects they are (or were) assigned to (asked from Workforce once per request).
 */
export class Access {
  readonly identity: Identity;
  private readonly workforce: WorkforceLookups;

  constructor(
    identity: Identity,
    workforce: WorkforceLookups,
  ) {
    this.identity = identity;
    this.workforce = workforce;
  }

  get admin(): boolean {
    return this.identity.role === 'ADMIN';
  }
  get managerOf(): string | null {
    return this.identity.role === 'MANAGER' ? this.identity.companyId : null;
  }
  get workerProfile(): string | null {
    return this.identity.role === 'WORKER' ? this.identity.profileId : null;
  }

  /** Projects the worker is or was assigned to. */
  async workerProjectIds(): Promise<Set<string>> {
    if (!this.workerProfile) return new Set();
    const { current, past } = await this.workforce.workerProjects();
    return new Set([...current, ...past].map((p) => p.id));
  }
  private async workerCompanyIds(): Promise<Set<string>> {
    if (!this.workerProfile) return new Set();
    const { current, past } = await this.workforce.workerProjects();
    return new Set([...current, ...past].map((p) => p.companyId));
  }

  async anomaly(doc: AnomalyDoc): Promise<boolean> {
    if (this.admin) return true;
    if (this.managerOf) return doc.companyId === this.managerOf;
    return (await this.workerProjectIds()).has(doc.projectId);
  }
  form(doc: FormDoc): boolean {
    if (this.admin) return true;
    if (this.managerOf) return doc.companyId === this.managerOf;
    return doc.profileId === this.workerProfile;
  }
  async template(doc: TemplateDoc): Promise<boolean> {
    return this.company(doc.companyId);
  }
  async company(companyId: string): Promise<boolean> {
    if (this.admin) return true;
    if (this.managerOf) return companyId === this.managerOf;
    return (await this.workerCompanyIds()).has(companyId);
  }

  /** The filter of a project's anomalies for this caller; null when they may see none. */
  async anomaliesOf(projectId: string): Promise<Where | null> {
    if (this.admin) return {};
    if (this.managerOf) return { companyId: this.managerOf };
    return (await this.workerProjectIds()).has(projectId) ? {} : null;
  }
  /** The filter of forms (of a project or a profile) for this caller; null when they may see none. */
  formsOf(profileId: string | null): Where | null {
    if (this.admin) return {};
    if (this.managerOf) return { companyId: this.managerOf };
    if (!this.workerProfile) return null;
    if (profileId !== null && profileId !== this.workerProfile) return null;
    return { profileId: this.workerProfile };
  }
}

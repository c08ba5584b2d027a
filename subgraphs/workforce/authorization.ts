import { ForbiddenError } from '../../platform/errors.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import type { AuditFilter } from '../../platform/event-store/port.ts';
import { MUTATION_ROLES, PERSONAL_FIELDS, QUERY_ROLES } from '../../schema/subgraphs/workforce.policy.ts';
import type { RawLoaders } from './loaders.ts';
import type {
  AssignmentRow,
  CompanyRow,
  LicenseRow,
  ProfileAssignmentRow,
  ProfileCompanyRow,
  ProfileRow,
  ProjectRow,
  SubscriptionRow,
} from './store/read-model.ts';
import type { Scope } from './store/visible-rows.ts';

/**
 * What one caller may see, row by row (the rules in schema/subgraphs/workforce.policy.ts),
 * for rows read by id; lists apply the same rules in SQL (store/visible-rows.ts). Lookups
 * it needs go through the request's unfiltered loaders, so checking 100 rows costs one
 * batch, not 100 queries.
 */
export class Visibility {
  readonly identity: Identity;
  private readonly raw: RawLoaders;

  constructor(
    identity: Identity,
    raw: RawLoaders,
  ) {
    this.identity = identity;
    this.raw = raw;
  }

  /** True when the caller sees every company (ADMIN). */
  get all(): boolean {
    return this.identity.role === 'ADMIN';
  }

  /** The company a MANAGER manages (and records their changes under); null for other roles. */
  get managerOf(): string | null {
    return this.identity.role === 'MANAGER' ? this.identity.companyId : null;
  }

  /** The caller's rows, for lists filtered in SQL. */
  get scope(): Scope {
    return { all: this.all, companyId: this.managerOf, profileId: this.worker };
  }

  private get worker(): string | null {
    return this.identity.role === 'WORKER' ? this.identity.profileId : null;
  }

  private async workerEmployments(): Promise<ProfileCompanyRow[]> {
    return this.worker ? this.raw.profileCompanies(null).load(this.worker) : [];
  }

  private async workerAssignments(): Promise<ProfileAssignmentRow[]> {
    if (!this.worker) return [];
    const [now, before] = await Promise.all([
      this.raw.profileAssignmentsByProfile('ASSIGNED').load(this.worker),
      this.raw.profileAssignmentsByProfile('UNASSIGNED').load(this.worker),
    ]);
    return [...now, ...before];
  }

  /** Whether the profile works or worked for the manager's company. */
  private async employedByManager(profileId: string): Promise<boolean> {
    const employments = await this.raw.profileCompanies(null).load(profileId);
    return employments.some((e) => e.companyId === this.managerOf);
  }

  async company(row: CompanyRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return row.id === this.managerOf;
    return (await this.workerEmployments()).some((e) => e.companyId === row.id);
  }

  async project(row: ProjectRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return row.companyId === this.managerOf;
    return (await this.workerAssignments()).some((a) => a.projectId === row.id);
  }

  async assignment(row: AssignmentRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return row.companyId === this.managerOf;
    return (await this.workerAssignments()).some((a) => a.assignmentId === row.id);
  }

  async profile(row: ProfileRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return this.employedByManager(row.id);
    return row.id === this.worker;
  }

  async license(row: LicenseRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return this.employedByManager(row.profileId);
    return row.profileId === this.worker;
  }

  async subscription(row: SubscriptionRow): Promise<boolean> {
    if (this.all) return true;
    return row.companyId === this.managerOf;
  }

  /**
   * Whose record of a profile's personal data the caller sees: ADMINs and the person the
   * latest values ('latest'), a manager of a company the person works for now that
   * company's own record ('company'), anyone else nothing.
   */
  async personalDataSource(profileId: string): Promise<'latest' | 'company' | null> {
    if (this.all || profileId === this.worker) return 'latest';
    if (!this.managerOf) return null;
    return (await this.activeInManagersCompany(profileId)) ? 'company' : null;
  }

  /** Who created a profile: ADMINs, the person, and managers of the company it was created under. */
  creator(row: ProfileRow): boolean {
    return this.all || row.id === this.worker || (this.managerOf !== null && row.createdFor === this.managerOf);
  }

  /** Refuses a query field the caller's role may not use at all. */
  requireQuery(field: string): void {
    const roles = QUERY_ROLES[field];
    if (roles && !roles.includes(this.identity.role)) throw new ForbiddenError(`${this.identity.role} may not read ${field}`);
  }

  /**
   * Refuses a mutation the caller's role may not run, or (for a MANAGER) one on another
   * company's data. `companyId` is the company the change belongs to, when it has one.
   */
  requireMutation(field: string, companyId?: string | null): void {
    const roles = MUTATION_ROLES[field] ?? [];
    if (!roles.includes(this.identity.role)) throw new ForbiddenError(`${this.identity.role} may not ${field}`);
    if (this.managerOf && companyId !== undefined && companyId !== this.managerOf) {
      throw new ForbiddenError(`A manager may only ${field} within their own company`);
    }
  }

  /** The company a MANAGER's list queries are confined to (a different one asked for is FORBIDDEN). */
  confineToCompany(requested: string | null): string | null {
    if (!this.managerOf) return requested;
    if (requested !== null && requested !== this.managerOf) throw new ForbiddenError('A manager sees only their own company');
    return this.managerOf;
  }

  /**
   * Whether the caller may read an entity's audit trail: ADMIN any; a MANAGER an entity of
   * theirs (visible by the rules above); a WORKER only their own profile and licences.
   */
  async auditTrail(entity: { type: 'Company' | 'Project' | 'Assignment' | 'Profile' | 'License' | 'Subscription'; row: unknown }): Promise<boolean> {
    if (this.all) return true;
    const row = entity.row as never;
    if (this.worker) return entity.type === 'Profile' ? this.profile(row) : entity.type === 'License' ? this.license(row) : false;
    const check = { Company: this.company, Project: this.project, Assignment: this.assignment, Profile: this.profile, License: this.license, Subscription: this.subscription }[entity.type];
    return check.call(this, row);
  }

  /**
   * Which entries of a trail the caller sees once they may read it: a MANAGER what was
   * recorded under their company, and of what was recorded under none only entries with
   * no personal data (an ADMIN's change to a profile may carry what another company
   * recorded); ADMINs and the person themself, every entry.
   */
  auditFilter(): AuditFilter | null {
    return this.managerOf ? { tenant: this.managerOf, personalKeys: PERSONAL_FIELDS.Profile } : null;
  }

  /** For a MANAGER: whether the profile works for their company now (changes need that). */
  async activeInManagersCompany(profileId: string): Promise<boolean> {
    if (!this.managerOf) return true;
    const employments = await this.raw.profileCompanies('ACTIVE').load(profileId);
    return employments.some((e) => e.companyId === this.managerOf);
  }
}

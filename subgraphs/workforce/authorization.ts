import { ForbiddenError } from '../../platform/errors.ts';
import type { Identity } from '../../platform/auth/identity.ts';
import { MUTATION_ROLES, QUERY_ROLES } from '../../schema/subgraphs/workforce.policy.ts';
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

/**
 * What one caller may see, row by row (the rules in schema/subgraphs/workforce.policy.ts).
 * Lookups it needs go through the request's unfiltered loaders, so checking 100 rows costs
 * one batch, not 100 queries.
 */
export class Visibility {
  constructor(
    readonly identity: Identity,
    private readonly raw: RawLoaders,
  ) {}

  /** True when the caller sees every company (ADMIN). */
  get all(): boolean {
    return this.identity.role === 'ADMIN';
  }

  private get managerOf(): string | null {
    return this.identity.role === 'MANAGER' ? this.identity.companyId : null;
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

  async profileCompany(row: ProfileCompanyRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return row.companyId === this.managerOf;
    return row.profileId === this.worker;
  }

  async profileAssignment(row: ProfileAssignmentRow): Promise<boolean> {
    if (this.all) return true;
    if (this.managerOf) return (await this.raw.project.load(row.projectId))?.companyId === this.managerOf;
    return row.profileId === this.worker;
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

  /** Personal fields (phone, birth date): ADMIN, the person, or a manager of a company they work for now. */
  async personalData(profileId: string): Promise<boolean> {
    if (this.all || profileId === this.worker) return true;
    if (!this.managerOf) return false;
    const employments = await this.raw.profileCompanies('ACTIVE').load(profileId);
    return employments.some((e) => e.companyId === this.managerOf);
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

  /** For a WORKER: the profile their list queries are confined to; otherwise null. */
  get ownProfile(): string | null {
    return this.worker;
  }

  /** For a WORKER: the ids their top-level lists are confined to; null for others. */
  async workerLists(): Promise<{ companyIds: string[]; projectIds: string[]; profileIds: string[] } | null> {
    if (!this.worker) return this.all || this.managerOf ? null : { companyIds: [], projectIds: [], profileIds: [] };
    const [employments, assignments] = await Promise.all([this.workerEmployments(), this.workerAssignments()]);
    return {
      companyIds: [...new Set(employments.map((e) => e.companyId))],
      projectIds: [...new Set(assignments.map((a) => a.projectId))],
      profileIds: [this.worker],
    };
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

  /** A MANAGER reading a shared entity's trail (a profile) sees only events of no company or theirs. */
  auditEntryVisible(companyId: string | null | undefined): boolean {
    return !this.managerOf || companyId == null || companyId === this.managerOf;
  }

  /** For a MANAGER: whether the profile works for their company now (changes need that). */
  async activeInManagersCompany(profileId: string): Promise<boolean> {
    if (!this.managerOf) return true;
    const employments = await this.raw.profileCompanies('ACTIVE').load(profileId);
    return employments.some((e) => e.companyId === this.managerOf);
  }
}

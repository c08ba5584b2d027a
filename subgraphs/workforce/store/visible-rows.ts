/**
 * Row visibility in SQL (the rules in schema/subgraphs/workforce.policy.ts), for lists:
 * applied in the WHERE clause, so a page is cut from the rows the caller may see and
 * `hasNextPage` is true exactly when more of them exist. Lookups by id check the same rules
 * on the row in hand (authorization.ts).
 */

/** Whose rows a read may return: every row (ADMIN), one company's (MANAGER), one person's (WORKER). */
export interface Scope {
  all: boolean;
  /** The company a MANAGER manages. */
  companyId: string | null;
  /** The profile a WORKER is. */
  profileId: string | null;
}

/** Every row: what ADMINs and the visibility checks themselves read. */
export const EVERYTHING: Scope = { all: true, companyId: null, profileId: null };

/** The scope as the three parameters `visible` reads, in that order. */
export const scopeParams = (s: Scope): unknown[] => [s.all, s.companyId, s.profileId];

export type VisibleEntity =
  | 'company' | 'project' | 'assignment' | 'profile' | 'profileCompany' | 'profileAssignment' | 'license' | 'subscription';

/**
 * A predicate true when row `alias` of `entity` is visible to the scope in parameters
 * `$n` (all), `$n+1` (company) and `$n+2` (profile): a null company or profile matches
 * nothing, so each role reaches only its own clause.
 */
export function visible(entity: VisibleEntity, alias: string, n: number): string {
  const all = `$${n}::boolean`;
  const company = `$${n + 1}::uuid`;
  const person = `$${n + 2}::uuid`;
  const a = alias;
  const rules: Record<VisibleEntity, string> = {
    // A worker sees the companies they work or worked for.
    company: `${a}.id = ${company} OR EXISTS (SELECT 1 FROM profile_companies v WHERE v.company_id = ${a}.id AND v.profile_id = ${person})`,
    // A worker sees the projects and assignments they are or were on.
    project: `${a}.company_id = ${company} OR EXISTS (SELECT 1 FROM profile_assignments v WHERE v.project_id = ${a}.id AND v.profile_id = ${person})`,
    assignment: `${a}.company_id = ${company} OR EXISTS (SELECT 1 FROM profile_assignments v WHERE v.assignment_id = ${a}.id AND v.profile_id = ${person})`,
    // A manager sees the people their company employs or employed.
    profile: `${a}.id = ${person} OR EXISTS (SELECT 1 FROM profile_companies v WHERE v.profile_id = ${a}.id AND v.company_id = ${company})`,
    profileCompany: `${a}.company_id = ${company} OR ${a}.profile_id = ${person}`,
    profileAssignment: `${a}.profile_id = ${person} OR EXISTS (SELECT 1 FROM projects v WHERE v.id = ${a}.project_id AND v.company_id = ${company})`,
    license: `${a}.profile_id = ${person} OR EXISTS (SELECT 1 FROM profile_companies v WHERE v.profile_id = ${a}.profile_id AND v.company_id = ${company})`,
    // Not for workers (every parameter is named, so each statement takes all three).
    subscription: `${a}.company_id = ${company} AND ${person} IS NULL`,
  };
  return `(${all} OR ${rules[entity]})`;
}

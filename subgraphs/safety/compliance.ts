import type { TemplateDoc } from './store/documents.ts';
import type { SourceVerdict, TestResultsStatus } from './test-results.ts';
import type { WorkforceLicense } from './workforce.ts';

/**
 * A worker's compliance on a project on a day: mandatory forms submitted, licences valid,
 * latest test results approved. Forms are Safety's own; licences are Workforce's (asked
 * through its API); test results from the external sources (SaferApp, Fit2000), asked through
 * their APIs (test-results.ts).
 */

/**
 * The test-results part: one verdict per source (SaferApp, Fit2000), asked through their
 * GraphQL APIs (test-results.ts), and the status across them (`combinedStatus`).
 */
export interface TestResultsVerdict {
  status: TestResultsStatus;
  sources: SourceVerdict[];
}

/** Valid on `day`: issued by then, not expired, not revoked by then. */
export function licenseValidOn(license: WorkforceLicense, day: string): boolean {
  return license.issuedOn <= day && day <= license.expiresOn && (license.revokedOn === null || license.revokedOn > day);
}

export interface ComplianceRow {
  profileId: string;
  projectId: string;
  on: string;
  requiredForms: { template: TemplateDoc; lastSubmittedAt: string | null }[];
  licenses: { id: string; validOnDay: boolean; revoked: boolean }[];
  testResults: TestResultsVerdict;
}

export function complianceOf(o: {
  profileId: string;
  projectId: string;
  on: string;
  mandatory: TemplateDoc[];
  submitted: { templateId: string; submittedAt: string }[];
  licenses: WorkforceLicense[];
  testResults: TestResultsVerdict;
}): ComplianceRow {
  const last = new Map<string, string>();
  for (const f of o.submitted) {
    // Submitted by the day asked about.
    if (f.submittedAt.slice(0, 10) > o.on) continue;
    if ((last.get(f.templateId) ?? '') < f.submittedAt) last.set(f.templateId, f.submittedAt);
  }
  return {
    profileId: o.profileId,
    projectId: o.projectId,
    on: o.on,
    requiredForms: o.mandatory.map((t) => ({ template: t, lastSubmittedAt: last.get(t.id) ?? null })),
    licenses: o.licenses.map((l) => ({ id: l.id, validOnDay: licenseValidOn(l, o.on), revoked: l.revokedOn !== null && l.revokedOn <= o.on })),
    testResults: o.testResults,
  };
}

export const formsComplete = (c: ComplianceRow) => c.requiredForms.every((r) => r.lastSubmittedAt !== null);
/** At least one licence, and every licence not revoked valid on the day. */
export const licensesValid = (c: ComplianceRow) => c.licenses.some((l) => l.validOnDay) && c.licenses.every((l) => l.validOnDay || l.revoked);
export const compliant = (c: ComplianceRow) => formsComplete(c) && licensesValid(c) && c.testResults.status !== 'NOT_APPROVED';

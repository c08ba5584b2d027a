import type { TemplateDoc } from './store/documents.ts';
import type { WorkforceLicense } from './workforce.ts';

/**
 * A worker's compliance on a project on a day: mandatory forms submitted, licences valid,
 * latest test results approved. Forms are Safety's own; licences are Workforce's (asked
 * through its API); test results come from external sources (SaferApp, Fit2000) that land
 * separately: they plug in through `TestResultsSource`.
 */

export type TestResultsStatus = 'APPROVED' | 'NOT_APPROVED' | 'NO_RESULTS' | 'NOT_AVAILABLE';

export interface TestResultsVerdict {
  status: TestResultsStatus;
  /** The source that answered (e.g. "SaferApp"), when one did. */
  source: string | null;
}

/**
 * EXTENSION POINT for the external test-result sources: given a worker and a project (its
 * faena code through the graph when the source needs it), the verdict of the latest test
 * result on or before `on`. Pass one in the subgraph's options (`testResults`); until a
 * source is connected the check answers NOT_AVAILABLE and does not count against compliance.
 */
export interface TestResultsSource {
  latest(q: { profileId: string; projectId: string; on: string }): Promise<TestResultsVerdict>;
}

export const NO_TEST_RESULTS_SOURCE: TestResultsSource = {
  latest: async () => ({ status: 'NOT_AVAILABLE', source: null }),
};

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

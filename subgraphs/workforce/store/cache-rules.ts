import { todayUtc } from '../../../platform/domain/input.ts';
import { eventTags, pointIds, type ReadRules } from '../../../platform/response-cache/reads.ts';
import { companyStream } from '../domain/company.ts';
import { offeringStream } from '../domain/offering.ts';
import { profileStream } from '../domain/profile.ts';
import { projectStream } from '../domain/project.ts';
import { TABLES_WRITTEN } from './projection.ts';

const every = [...new Set(Object.values(TABLES_WRITTEN).flat())];

/**
 * What Workforce's answers may be cached by (platform/response-cache/reads.ts).
 *
 * Every read-table row belongs to one stream (store/projection.ts), and companies,
 * projects, profiles (with each company's personal data about them) and offerings are
 * keyed by their stream's id: a read of those by id is tagged with the streams, so a
 * write elsewhere leaves it cached. Any other read (lists, searches, the visibility
 * checks, counts) is tagged with its tables: any write to one of them drops it.
 * Notifications and read markers are per person (never shared between users). "Today"
 * decides licence and subscription status: answers hold until the next UTC midnight.
 */
export const workforceCacheRules: ReadRules = {
  tables: new Set(every),
  personal: new Set(['notifications', 'notification_reads']),
  points: {
    wf_rm_companies: (v) => pointIds(v).map(companyStream),
    wf_rm_projects: (v) => pointIds(v).map(projectStream),
    wf_rm_profiles: (v) => pointIds(v).map(profileStream),
    wf_rm_personal_data: (v) => pointIds(v).map(profileStream),
    wf_rm_offerings: (v) => pointIds(v).map(offeringStream),
  },
  validUntil: () => Date.parse(`${todayUtc()}T00:00:00Z`) + 86_400_000,
  written: (event) => eventTags(event, TABLES_WRITTEN[event.type] ?? every),
};

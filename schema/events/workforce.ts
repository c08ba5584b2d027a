import { z } from 'zod';
import { defineEvent, isoDate, uuid } from './contract.ts';

/**
 * Workforce domain events. Streams: `company-<id>` (company, its subscriptions and
 * employments), `project-<id>` (project, its assignments and who is assigned),
 * `profile-<id>` (worker and licences), `offering-<id>`, `notification-<id>` (a notification
 * raised on its own: another domain's, a licence expiry), `notification-reads-<userId>`
 * (what one reader marked read).
 *
 * Notifications are facts in the log like any other: a notification caused by a Workforce
 * change (a profile assigned, seats running out) is derived from that change's event, which
 * carries what the derivation needs (the event's id is the notification's); one raised on
 * its own (a licence notice, another domain's report) is a NotificationRaised.
 */
const source = 'workforce';

export const CompanyRegistered = defineEvent({
  source, type: 'CompanyRegistered', version: 1, description: 'A company became a customer.',
  data: z.object({ companyId: uuid, name: z.string(), taxRut: z.string(), status: z.enum(['ACTIVE']) }),
});
export const OfferingCreated = defineEvent({
  source, type: 'OfferingCreated', version: 1, description: 'A product Angelis sells.',
  data: z.object({ offeringId: uuid, code: z.string(), name: z.string(), description: z.string().nullable() }),
});
export const SubscriptionStarted = defineEvent({
  source, type: 'SubscriptionStarted', version: 1, description: 'A company subscribed to an offering for a number of seats.',
  data: z.object({
    subscriptionId: uuid, companyId: uuid, offeringId: uuid, seats: z.number().int(),
    startsOn: isoDate, endsOn: isoDate.nullable(),
  }),
});
export const SubscriptionCancelled = defineEvent({
  source, type: 'SubscriptionCancelled', version: 1, description: 'A subscription ended before its end date.',
  data: z.object({ subscriptionId: uuid, companyId: uuid, cancelledOn: isoDate, reason: z.string().nullable() }),
});
export const ProfileHired = defineEvent({
  source, type: 'ProfileHired', version: 2, description: 'A profile started working for a company.',
  data: z.object({
    companyId: uuid, profileId: uuid, position: z.string().nullable(), startedOn: isoDate,
    // v2: the seats the decision was taken against, and the SEATS_RUNNING_OUT notice the hire
    // causes (a notification derived from this event, id = the event's: the read table's and
    // the lake's come from these fields). A v1 event has none of them: it caused no notice.
    /** Seats of the company's subscriptions in force on the day of the hire (UTC). */
    seatsInForce: z.number().int().optional(),
    /** The company's active profiles after the hire. */
    activeProfiles: z.number().int().optional(),
    /** When the hire brought the active profiles to 90% of the seats in force, from below: the oldest subscription in force (the notice's subject); otherwise null. */
    seatsRunningOutSubscriptionId: uuid.nullable().optional(),
  }),
});
export const SupervisorSet = defineEvent({
  source, type: 'SupervisorSet', version: 1, description: "A profile's reporting head in a company changed (null: none).",
  data: z.object({ companyId: uuid, profileId: uuid, supervisorId: uuid.nullable() }),
});
export const EmploymentEnded = defineEvent({
  source, type: 'EmploymentEnded', version: 1, description: 'A profile stopped working for a company.',
  data: z.object({ companyId: uuid, profileId: uuid, endedOn: isoDate }),
});
export const ProjectCreated = defineEvent({
  source, type: 'ProjectCreated', version: 1, description: 'A company opened a project (faena).',
  data: z.object({
    projectId: uuid, companyId: uuid, name: z.string(), faenaCode: z.string(), location: z.string().nullable(),
    startsOn: isoDate, endsOn: isoDate.nullable(),
  }),
});
export const ProjectClosed = defineEvent({
  source, type: 'ProjectClosed', version: 1, description: 'A project was closed; it takes no new assignments.',
  data: z.object({ projectId: uuid, companyId: uuid, closedOn: isoDate }),
});
export const AssignmentCreated = defineEvent({
  source, type: 'AssignmentCreated', version: 1, description: 'A role to fill within a project.',
  data: z.object({
    assignmentId: uuid, projectId: uuid, companyId: uuid, name: z.string(), startsOn: isoDate, endsOn: isoDate.nullable(),
  }),
});
export const ProfileAssigned = defineEvent({
  source, type: 'ProfileAssigned', version: 1, description: 'A profile was put on an assignment.',
  data: z.object({ assignmentId: uuid, projectId: uuid, companyId: uuid, profileId: uuid }),
});
export const ProfileUnassigned = defineEvent({
  source, type: 'ProfileUnassigned', version: 1, description: 'A profile was taken off an assignment.',
  data: z.object({ assignmentId: uuid, projectId: uuid, companyId: uuid, profileId: uuid }),
});
export const ProfileCreated = defineEvent({
  source, type: 'ProfileCreated', version: 1, description: 'A worker profile was created; its personal data is recorded under the creating company (metadata.companyId).',
  data: z.object({
    profileId: uuid, rut: z.string(), firstName: z.string(), lastName: z.string(), email: z.string().nullable(),
    phone: z.string().nullable(), birthDate: isoDate.nullable(), createdBy: z.string(),
  }),
});
export const ProfileUpdated = defineEvent({
  source, type: 'ProfileUpdated', version: 1,
  // Personal data is recorded per company: these are the values of the company in the
  // event's metadata.companyId (none: an ADMIN's change, from the latest values).
  description: "A profile's name, or the personal data a company recorded about it, changed; carries the full new values.",
  data: z.object({
    profileId: uuid, firstName: z.string(), lastName: z.string(), email: z.string().nullable(),
    phone: z.string().nullable(), birthDate: isoDate.nullable(),
  }),
});
export const LicenseGranted = defineEvent({
  source, type: 'LicenseGranted', version: 1, description: 'A profile obtained a licence or certification.',
  data: z.object({
    licenseId: uuid, profileId: uuid, type: z.string(), number: z.string(), issuedOn: isoDate, expiresOn: isoDate,
  }),
});
export const LicenseRenewed = defineEvent({
  source, type: 'LicenseRenewed', version: 1, description: "A licence's expiry moved later.",
  data: z.object({ licenseId: uuid, profileId: uuid, expiresOn: isoDate }),
});
export const LicenseRevoked = defineEvent({
  source, type: 'LicenseRevoked', version: 1, description: 'A licence was revoked.',
  data: z.object({ licenseId: uuid, profileId: uuid, revokedOn: isoDate, reason: z.string().nullable() }),
});

export const NOTIFICATION_KINDS = ['PROFILE_ASSIGNED', 'LICENSE_EXPIRING', 'SEATS_RUNNING_OUT', 'ANOMALY_REPORTED'] as const;
export const NOTIFICATION_SUBJECTS = ['Profile', 'Project', 'License', 'CompanySubscription', 'Anomaly'] as const;
/** `profile:<profileId>`, `managers:<companyId>`, `admins`, `user:<userId>`. */
export const audienceEntry = z.string().regex(/^(admins|profile:[0-9a-f-]{36}|managers:[0-9a-f-]{36}|user:.{1,200})$/);
export const NotificationRaised = defineEvent({
  source, type: 'NotificationRaised', version: 1,
  description: 'Someone is to be told something: the audience entries say who (title and body are free text, possibly personal).',
  data: z.object({
    notificationId: uuid, kind: z.enum(NOTIFICATION_KINDS), title: z.string().min(1), body: z.string(),
    subjectType: z.enum(NOTIFICATION_SUBJECTS), subjectId: z.string().min(1).max(200),
    audience: z.array(audienceEntry).min(1),
    /** What raised it: another domain's event id (raiseNotification), or a key of the licence check; null when the event beside it in the stream did. */
    sourceEventId: z.string().min(1).max(200).nullable(),
  }),
});
export const NotificationsRead = defineEvent({
  source, type: 'NotificationsRead', version: 1, description: 'A reader (an identity userId) marked notifications read.',
  data: z.object({ readerId: z.string().min(1).max(200), notificationIds: z.array(uuid).min(1) }),
});

/** Every Workforce event contract, by type. */
export const workforceEvents = {
  CompanyRegistered, OfferingCreated, SubscriptionStarted, SubscriptionCancelled, ProfileHired, SupervisorSet,
  EmploymentEnded, ProjectCreated, ProjectClosed, AssignmentCreated, ProfileAssigned, ProfileUnassigned,
  ProfileCreated, ProfileUpdated, LicenseGranted, LicenseRenewed, LicenseRevoked, NotificationRaised, NotificationsRead,
} as const;

type Contracts = typeof workforceEvents;
/** A Workforce event as decided by a command: `{ type, data }` typed per contract. */
export type WorkforceEvent = {
  [K in keyof Contracts]: { type: K; data: z.infer<Contracts[K]['data']>; subjects?: string[]; version?: number };
}[keyof Contracts];

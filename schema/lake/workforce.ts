import { workforceEvents } from '../events/workforce.ts';
import { constant, defineLakeTable, EVENT_ID, type LakeSource, type LakeTable } from './contract.ts';

/** Workforce lake tables: typed change rows fed by the events in schema/events/workforce.ts. */
const source = 'workforce';

export const companies = defineLakeTable({
  name: 'companies', source, description: 'Customer companies.', key: ['company_id'],
  columns: {
    company_id: { type: 'VARCHAR' }, name: { type: 'VARCHAR' },
    // A sole proprietor's company RUT is their personal RUT, so it is treated as personal data.
    tax_rut: { type: 'VARCHAR', personal: 'rut' }, status: { type: 'VARCHAR' },
  },
  events: {
    CompanyRegistered: { op: 'upsert', set: { company_id: 'companyId', name: 'name', tax_rut: 'taxRut', status: 'status' } },
  },
});

export const offerings = defineLakeTable({
  name: 'offerings', source, description: 'Products Angelis sells.', key: ['offering_id'],
  columns: { offering_id: { type: 'VARCHAR' }, code: { type: 'VARCHAR' }, name: { type: 'VARCHAR' }, description: { type: 'VARCHAR' } },
  events: {
    OfferingCreated: { op: 'upsert', set: { offering_id: 'offeringId', code: 'code', name: 'name', description: 'description' } },
  },
});

export const subscriptions = defineLakeTable({
  name: 'subscriptions', source, description: 'Company subscriptions to offerings.', key: ['subscription_id'],
  columns: {
    subscription_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' }, offering_id: { type: 'VARCHAR' },
    seats: { type: 'BIGINT' }, starts_on: { type: 'DATE' }, ends_on: { type: 'DATE' },
    cancelled_on: { type: 'DATE' }, cancel_reason: { type: 'VARCHAR' },
  },
  events: {
    SubscriptionStarted: {
      op: 'upsert',
      set: {
        subscription_id: 'subscriptionId', company_id: 'companyId', offering_id: 'offeringId', seats: 'seats',
        starts_on: 'startsOn', ends_on: 'endsOn',
      },
    },
    SubscriptionCancelled: {
      op: 'upsert', set: { subscription_id: 'subscriptionId', cancelled_on: 'cancelledOn', cancel_reason: 'reason' },
    },
  },
});

export const employments = defineLakeTable({
  name: 'employments', source, description: 'Who works for which company, and their supervisor.',
  key: ['company_id', 'profile_id'],
  columns: {
    company_id: { type: 'VARCHAR' }, profile_id: { type: 'VARCHAR' }, position: { type: 'VARCHAR' },
    started_on: { type: 'DATE' }, supervisor_id: { type: 'VARCHAR' },
  },
  events: {
    ProfileHired: { op: 'upsert', set: { company_id: 'companyId', profile_id: 'profileId', position: 'position', started_on: 'startedOn' } },
    SupervisorSet: { op: 'upsert', set: { company_id: 'companyId', profile_id: 'profileId', supervisor_id: 'supervisorId' } },
    EmploymentEnded: { op: 'delete', set: { company_id: 'companyId', profile_id: 'profileId' } },
  },
});

export const projects = defineLakeTable({
  name: 'projects', source, description: 'Projects (faenas) of a company.', key: ['project_id'],
  columns: {
    project_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' }, name: { type: 'VARCHAR' }, faena_code: { type: 'VARCHAR' },
    location: { type: 'VARCHAR' }, starts_on: { type: 'DATE' }, ends_on: { type: 'DATE' }, closed_on: { type: 'DATE' },
  },
  events: {
    ProjectCreated: {
      op: 'upsert',
      set: {
        project_id: 'projectId', company_id: 'companyId', name: 'name', faena_code: 'faenaCode', location: 'location',
        starts_on: 'startsOn', ends_on: 'endsOn',
      },
    },
    ProjectClosed: { op: 'upsert', set: { project_id: 'projectId', closed_on: 'closedOn' } },
  },
});

export const assignments = defineLakeTable({
  name: 'assignments', source, description: 'Roles to fill within a project.', key: ['assignment_id'],
  columns: {
    assignment_id: { type: 'VARCHAR' }, project_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' },
    name: { type: 'VARCHAR' }, starts_on: { type: 'DATE' }, ends_on: { type: 'DATE' },
  },
  events: {
    AssignmentCreated: {
      op: 'upsert',
      set: {
        assignment_id: 'assignmentId', project_id: 'projectId', company_id: 'companyId', name: 'name',
        starts_on: 'startsOn', ends_on: 'endsOn',
      },
    },
  },
});

export const assignmentMembers = defineLakeTable({
  name: 'assignment_members', source, description: 'Profiles currently on an assignment.',
  key: ['assignment_id', 'profile_id'],
  columns: {
    assignment_id: { type: 'VARCHAR' }, profile_id: { type: 'VARCHAR' }, project_id: { type: 'VARCHAR' }, company_id: { type: 'VARCHAR' },
  },
  events: {
    ProfileAssigned: {
      op: 'upsert', set: { assignment_id: 'assignmentId', profile_id: 'profileId', project_id: 'projectId', company_id: 'companyId' },
    },
    ProfileUnassigned: { op: 'delete', set: { assignment_id: 'assignmentId', profile_id: 'profileId' } },
  },
});

export const profiles = defineLakeTable({
  name: 'profiles', source, description: 'Worker profiles; RUT, email and phone are pseudonyms.', key: ['profile_id'],
  columns: {
    profile_id: { type: 'VARCHAR' }, rut: { type: 'VARCHAR', personal: 'rut' }, first_name: { type: 'VARCHAR' },
    last_name: { type: 'VARCHAR' }, email: { type: 'VARCHAR', personal: 'email' }, phone: { type: 'VARCHAR', personal: 'phone' },
    birth_date: { type: 'DATE' }, created_by: { type: 'VARCHAR' },
  },
  events: {
    ProfileCreated: {
      op: 'upsert',
      set: {
        profile_id: 'profileId', rut: 'rut', first_name: 'firstName', last_name: 'lastName', email: 'email', phone: 'phone',
        birth_date: 'birthDate', created_by: 'createdBy',
      },
    },
    ProfileUpdated: {
      op: 'upsert',
      set: { profile_id: 'profileId', first_name: 'firstName', last_name: 'lastName', email: 'email', phone: 'phone', birth_date: 'birthDate' },
    },
  },
});

export const licenses = defineLakeTable({
  name: 'licenses', source, description: 'Licences and certifications of profiles.', key: ['license_id'],
  columns: {
    license_id: { type: 'VARCHAR' }, profile_id: { type: 'VARCHAR' }, type: { type: 'VARCHAR' }, number: { type: 'VARCHAR' },
    issued_on: { type: 'DATE' }, expires_on: { type: 'DATE' }, revoked_on: { type: 'DATE' }, revoke_reason: { type: 'VARCHAR' },
  },
  events: {
    LicenseGranted: {
      op: 'upsert',
      set: {
        license_id: 'licenseId', profile_id: 'profileId', type: 'type', number: 'number', issued_on: 'issuedOn', expires_on: 'expiresOn',
      },
    },
    LicenseRenewed: { op: 'upsert', set: { license_id: 'licenseId', profile_id: 'profileId', expires_on: 'expiresOn' } },
    LicenseRevoked: { op: 'upsert', set: { license_id: 'licenseId', profile_id: 'profileId', revoked_on: 'revokedOn', revoke_reason: 'reason' } },
  },
});

/**
 * Every notification, of every kind, from the events alone, as Workforce's read table derives
 * them (subgraphs/workforce/store/projection.ts), with the same ids:
 * - NotificationRaised: one raised on its own (licence notices, other domains' reports);
 * - ProfileAssigned: PROFILE_ASSIGNED about the project, id = the event's;
 * - ProfileHired (v2) with seatsRunningOutSubscriptionId: SEATS_RUNNING_OUT about that
 *   subscription, id = the event's (a v1 hire carries no seat fields and caused no notice).
 * Title, body and audience are left out: free text may name people, and arrays do not map to
 * columns. Read markers are not in the lake.
 */
export const notifications = defineLakeTable({
  name: 'notifications', source, description: 'Notifications of every kind: what they were about and what raised them.',
  key: ['notification_id'],
  columns: {
    notification_id: { type: 'VARCHAR' }, kind: { type: 'VARCHAR' }, subject_type: { type: 'VARCHAR' }, subject_id: { type: 'VARCHAR' },
    source_event_id: {
      type: 'VARCHAR',
      description: 'What raised it on its own: another domain\'s event id, or license:<id>:<expiresOn>:<days>; null when the event of the row (_event_id) caused it',
    },
  },
  events: {
    NotificationRaised: {
      op: 'upsert',
      set: { notification_id: 'notificationId', kind: 'kind', subject_type: 'subjectType', subject_id: 'subjectId', source_event_id: 'sourceEventId' },
    },
    ProfileAssigned: {
      op: 'upsert', set: { notification_id: EVENT_ID, kind: constant('PROFILE_ASSIGNED'), subject_type: constant('Project'), subject_id: 'projectId' },
    },
    ProfileHired: {
      op: 'upsert', when: 'seatsRunningOutSubscriptionId',
      set: {
        notification_id: EVENT_ID, kind: constant('SEATS_RUNNING_OUT'), subject_type: constant('CompanySubscription'),
        subject_id: 'seatsRunningOutSubscriptionId',
      },
    },
  },
});

/** Every Workforce lake table. */
export const workforceLakeTables: LakeTable[] = [
  companies, offerings, subscriptions, employments, projects, assignments, assignmentMembers, profiles, licenses, notifications,
];

/** Workforce as a lake source: its events and the tables they feed. */
export const workforceLakeSource: LakeSource = { name: 'workforce', events: workforceEvents, tables: workforceLakeTables };

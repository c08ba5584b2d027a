import type { EventContract } from '../events/contract.ts';
import { workforceEvents } from '../events/workforce.ts';
import type { LakeTable } from './contract.ts';
import { workforceLakeTables } from './workforce.ts';

/** A source the projector consumes: its event contracts and the lake tables they feed. */
export interface LakeSource {
  name: string;
  events: Record<string, EventContract>;
  tables: LakeTable[];
}

/** Every event-sourced source, by name. Add a domain here once its contracts exist. */
export const lakeSources: Record<string, LakeSource> = {
  workforce: { name: 'workforce', events: workforceEvents, tables: workforceLakeTables },
};

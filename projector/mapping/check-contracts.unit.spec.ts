import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent, isoDate, uuid } from '../../schema/events/contract.ts';
import { constant, defineLakeTable, EVENT_ID } from '../../schema/lake/contract.ts';
import { workforceLakeSource } from '../../schema/lake/workforce.ts';
import { assertLakeSources, checkLakeSource, MappingError } from './check-contracts.ts';

const Hired = defineEvent({
  source: 's', type: 'Hired', version: 1, description: '',
  data: z.object({ personId: uuid, startedOn: isoDate, seats: z.number().int(), note: z.string().nullable(), maybeId: uuid.nullable() }),
});
const table = (events: Parameters<typeof defineLakeTable>[0]['events'], columns = {}) =>
  defineLakeTable({
    name: 'people', source: 's', description: '', key: ['person_id'],
    columns: { person_id: { type: 'VARCHAR' }, started_on: { type: 'DATE' }, ...columns }, events,
  });

describe('lake mappings against event contracts', () => {
  it('accepts the real Workforce mappings', () => {
    expect(checkLakeSource(workforceLakeSource)).toEqual([]);
    expect(() => assertLakeSources([workforceLakeSource])).not.toThrow();
  });

  it('accepts a mapping that agrees with its contract', () => {
    const t = table({ Hired: { op: 'upsert', set: { person_id: 'personId', started_on: 'startedOn' } } });
    expect(checkLakeSource({ name: 's', events: { Hired }, tables: [t] })).toEqual([]);
  });

  it('names a field the contract lacks', () => {
    const t = table({ Hired: { op: 'upsert', set: { person_id: 'personId', started_on: 'startDate' } } });
    expect(checkLakeSource({ name: 's', events: { Hired }, tables: [t] })).toEqual([
      'schema/lake: table people: event Hired maps started_on from data.startDate, which Hired v1 does not have',
    ]);
  });

  it('names a type mismatch, a nullable key, an unknown event and an unset column', () => {
    const t = table(
      {
        Hired: { op: 'upsert', set: { person_id: 'maybeId', started_on: 'seats' } },
        Fired: { op: 'delete', set: { person_id: 'personId' } },
      },
      { note: { type: 'VARCHAR' } },
    );
    const problems = checkLakeSource({ name: 's', events: { Hired }, tables: [t] });
    expect(problems).toContain('schema/lake: table people: event Hired maps key person_id from data.maybeId, which may be null');
    expect(problems).toContain('schema/lake: table people: event Hired maps started_on (DATE) from data.seats, which is a int in the contract');
    expect(problems).toContain('schema/lake: table people: event Fired has no contract in schema/events (source s)');
    expect(problems).toContain('schema/lake: table people: column note is set by no event');
  });

  it("checks the event's id, constants and a when field", () => {
    const ok = table({ Hired: { op: 'upsert', when: 'maybeId', set: { person_id: EVENT_ID, started_on: 'startedOn', note: constant('HIRED') } } }, { note: { type: 'VARCHAR' } });
    expect(checkLakeSource({ name: 's', events: { Hired }, tables: [ok] })).toEqual([]);
    const bad = table(
      { Hired: { op: 'upsert', when: 'nothing', set: { person_id: 'personId', started_on: constant('2024-01-01'), rut: EVENT_ID } } },
      { rut: { type: 'VARCHAR', personal: 'rut' } },
    );
    expect(checkLakeSource({ name: 's', events: { Hired }, tables: [bad] })).toEqual([
      'schema/lake: table people: event Hired is conditional on data.nothing, which Hired v1 does not have',
      'schema/lake: table people: event Hired maps started_on (DATE) from the constant "2024-01-01", which is text',
      "schema/lake: table people: event Hired maps personal column rut from the event's id; personal columns take data fields",
    ]);
  });

  it('refuses to start with every problem in one message', () => {
    const t = table({ Hired: { op: 'upsert', set: { person_id: 'personId', started_on: 'nope' } } });
    expect(() => assertLakeSources([{ name: 's', events: { Hired }, tables: [t] }])).toThrow(MappingError);
    expect(() => assertLakeSources([{ name: 's', events: { Hired }, tables: [t] }])).toThrow(/data\.nope/);
  });
});

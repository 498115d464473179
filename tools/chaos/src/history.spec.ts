import { DateTime } from 'luxon';
import { generateHistory, gridStart, GRID_STEP_MS, type History, type RetailEvent } from './history';

const START = gridStart(new Date('2027-03-15T10:12:00Z'));
const small = (seed = 7): History =>
  generateHistory({ seed, events: 2000, customers: 200, phases: 3, startsAt: START });

const eventsOf = (history: History): { stage: number; key: string; event: RetailEvent }[] =>
  history.stages.flatMap((stage, index) =>
    stage.kind === 'events'
      ? stage.sequences.flatMap((s) => s.events.map((event) => ({ stage: index, key: s.key, event })))
      : [],
  );

describe('the chaos history', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(JSON.stringify(small(7))).toBe(JSON.stringify(small(7)));
    expect(JSON.stringify(small(8))).not.toBe(JSON.stringify(small(7)));
  });

  it('is the same events at the same local times whatever day it starts', () => {
    const later = generateHistory({
      seed: 7,
      events: 2000,
      customers: 200,
      phases: 3,
      startsAt: gridStart(new Date('2027-04-02T18:00:00Z')),
    });
    const shape = (history: History) =>
      eventsOf(history).map(({ stage, key, event }) => [
        stage,
        key,
        event.eventId,
        event.type,
        event.occurredAt.slice(11),
      ]);
    expect(shape(later)).toEqual(shape(small(7)));
    expect(later.consentChangeCount).toBe(small(7).consentChangeCount);
  });

  it('starts at 11:30 UTC, at least 3 hours ahead', () => {
    expect(gridStart(new Date('2027-03-15T08:29:00Z')).toISOString()).toBe('2027-03-15T11:30:00.000Z');
    expect(gridStart(new Date('2027-03-15T08:31:00Z')).toISOString()).toBe('2027-03-16T11:30:00.000Z');
  });

  it('has at least the events and customers asked for, duplicates included', () => {
    const history = small();
    expect(history.eventCount).toBeGreaterThanOrEqual(2000);
    expect(eventsOf(history)).toHaveLength(history.eventCount);
    expect(history.profileIds.filter((id) => !id.startsWith('anon:'))).toHaveLength(200);
    expect(history.profileIds.some((id) => id.startsWith('anon:'))).toBe(true);
    const ids = eventsOf(history).map(({ event }) => event.eventId);
    expect(ids.length - new Set(ids).size).toBe(history.duplicateCount);
    expect(history.duplicateCount).toBeGreaterThan(0);
  });

  it('sends a duplicate only after its original, in the same stage or a later one', () => {
    const firstSeen = new Map<string, { stage: number; index: number }>();
    for (const [index, { stage, event }] of eventsOf(small()).entries()) {
      const original = firstSeen.get(event.eventId);
      if (!original) firstSeen.set(event.eventId, { stage, index });
      else expect(stage > original.stage || index > original.index).toBe(true);
    }
  });

  it('keeps every stage time on the grid: half past a whole hour, 5 hours apart, only forward', () => {
    const clocks = small()
      .stages.filter((s) => s.kind === 'clock')
      .map((s) => Date.parse(s.now));
    expect(clocks[0]).toBe(START.getTime());
    for (const [i, at] of clocks.entries()) {
      expect(new Date(at).getUTCMinutes()).toBe(30);
      if (i > 0) expect(at - (clocks[i - 1] ?? 0)).toBe(GRID_STEP_MS);
    }
  });

  it('dates every triggering event between 10 minutes and 4.5 hours before its stage time', () => {
    const history = small();
    const seen = new Set<string>();
    let clock = 0;
    for (const stage of history.stages) {
      if (stage.kind === 'clock') clock = Date.parse(stage.now);
      if (stage.kind !== 'events') continue;
      for (const { events } of stage.sequences) {
        for (const event of events) {
          // A duplicate is sent again as it was, later.
          if (seen.has(event.eventId)) continue;
          seen.add(event.eventId);
          const before = clock - Date.parse(event.occurredAt);
          // Historical imports are hundreds of days old: they never trigger.
          if (before > 100 * 86_400_000) continue;
          expect(before).toBeGreaterThan(10 * 60_000);
          expect(before).toBeLessThan(4.5 * 3_600_000);
        }
      }
    }
  });

  it('puts each customer of a stage on one sequence, in time order', () => {
    const seen = new Set<string>();
    for (const stage of small().stages) {
      if (stage.kind !== 'events') continue;
      const keys = stage.sequences.map((s) => s.key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const { events } of stage.sequences) {
        const originals = events.filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
        const times = originals.map((e) => Date.parse(e.occurredAt));
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
    }
  });

  it('gives birthdays that the clock moves cross after registration, at 09:00 local off the grid', () => {
    const history = small();
    const clocks = history.stages.filter((s) => s.kind === 'clock').map((s) => Date.parse(s.now));
    const last = Math.max(...clocks);
    let crossed = 0;
    for (const { event } of eventsOf(history)) {
      const birthday = event.traits?.['birthday'];
      if (event.type !== 'customer.registered' || typeof birthday !== 'string') continue;
      const zone =
        typeof event.traits?.['timezone'] === 'string' ? event.traits['timezone'] : 'America/Bogota';
      const registered = Date.parse(event.occurredAt);
      for (const year of [2027, 2028]) {
        const at = DateTime.fromISO(`${year}${birthday.slice(4)}T09:00`, { zone }).toMillis();
        if (at <= registered || at > last) continue;
        crossed += 1;
        expect(at - registered).toBeGreaterThan(6 * 3_600_000);
        expect(new Date(at).getUTCMinutes()).toBe(0);
      }
    }
    expect(crossed).toBeGreaterThan(10);
  });
});

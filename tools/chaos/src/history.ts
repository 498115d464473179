import { DateTime } from 'luxon';
import { SeededRandom } from './random';

/** An input event as a retailer sends it (SPEC section 4). */
export interface RetailEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  customerId?: string;
  anonymousId?: string;
  traits?: Record<string, unknown>;
  properties?: Record<string, unknown>;
}

/**
 * One customer's (or one anonymous visitor's) events of a stage, in the order they must
 * arrive: every replay keeps this order, whatever it batches, so the history has one outcome.
 */
export interface EventSequence {
  /** The Kafka key and the replay lane: the customer id, or the anonymous id of a visitor. */
  key: string;
  events: RetailEvent[];
}

export type ConsentChannel = 'email' | 'sms' | 'push';

export interface ConsentChange {
  customerId: string;
  channel: ConsentChannel;
  status: 'opted_in' | 'opted_out';
}

/**
 * The history is a list of stages, each replayed to the end and waited for (every consumer
 * caught up, nothing new for a while) before the next: what happens within a stage may be
 * batched, lagged or crashed in any way, but the order of stages is fixed.
 */
export type Stage =
  | { kind: 'clock'; now: string }
  | { kind: 'events'; phase: number; sequences: EventSequence[] }
  | { kind: 'consent'; changes: ConsentChange[] };

export interface History {
  seed: number;
  stages: Stage[];
  /** Every profile id whose milestones and messages are compared: customers and visitors (`anon:<id>`). */
  profileIds: string[];
  /** Events in the history, duplicates included. */
  eventCount: number;
  duplicateCount: number;
  customerCount: number;
  consentChangeCount: number;
  clockMoves: number;
}

export interface HistoryOptions {
  seed: number;
  /** At least this many events (duplicates included). */
  events: number;
  customers: number;
  /** Event phases; each is followed by a consent stage and clock moves. */
  phases: number;
  /** The first stage's sandbox time: a grid point, see `gridStart`. */
  startsAt: Date;
}

/**
 * Every stage happens on a grid of 5-hour steps at half past the hour. Local boundaries in the
 * zones used (quiet hours, midnight, a birthday's 09:00) are whole hours, never within 30 min of
 * a grid point, and no two grid points are exactly a day or two apart (24 and 48 are not
 * multiples of 5), so a few minutes of drift between runs never moves a decision across a
 * boundary: a 1-day frequency cap window, a 2-day wait or the end of quiet hours.
 */
export const GRID_STEP_MS = 5 * 3_600_000;
/** Clock moves after each phase's events, before the next phase. */
const MOVES_PER_PHASE = 2;
/** Moves after the last phase: enough for a 2-day wait that started in it. */
const TAIL_MOVES = 11;
/** The tail's consent stage comes after this many of its moves: opt-outs racing follow-ups. */
const TAIL_CONSENT_AFTER = 4;
/** Zones without daylight-saving time, so every local whole hour stays a whole UTC hour. */
const ZONES = ['America/Bogota', 'Asia/Tokyo', 'UTC', 'America/Phoenix'] as const;
/** The program's policies.timezone, for customers without a timezone trait. */
const DEFAULT_ZONE = 'America/Bogota';
const BIRTHDAY_AT_HOUR = 9;
/** The share of the history that is an event sent again. */
const DUPLICATE_SHARE = 0.04;

/**
 * The first grid point at least `leadMs` after `now` whose time of day is 11:30 UTC. A history
 * is then the same whatever day it starts (its zones have no daylight-saving time): a seed
 * replays the same events at the same local times, only on other dates.
 */
export function gridStart(now: Date, leadMs = 3 * 3_600_000): Date {
  const day = 86_400_000;
  const earliest = now.getTime() + leadMs;
  const sameDay = Math.floor(earliest / day) * day + 11.5 * 3_600_000;
  return new Date(sameDay >= earliest ? sameDay : sameDay + day);
}

interface CustomerPlan {
  id: string;
  phase: number;
  zone: string;
  hasPhone: boolean;
  smsOptedIn: boolean;
  emailOptedOut: boolean;
  pushOptedOut: boolean;
}

/** Builds the seeded history: see HistoryOptions and README, "Chaos run". */
export function generateHistory(options: HistoryOptions): History {
  const random = new SeededRandom(options.seed);
  const phases = Math.max(1, options.phases);
  const grid = (index: number) => new Date(options.startsAt.getTime() + index * GRID_STEP_MS);
  const phaseIndex = (phase: number) => phase * (MOVES_PER_PHASE + 1);
  const lastGridIndex = phaseIndex(phases - 1) + MOVES_PER_PHASE + TAIL_MOVES;
  /** Birthdays fire at the latest this long before the last grid point: their 2-day wait ends in the run. */
  const followUpRoom = 50 * 3_600_000;

  // Per phase, the sequences by key, in creation order (kept stable for the replay).
  const sequences: Map<string, RetailEvent[]>[] = Array.from({ length: phases }, () => new Map());
  const eventTimes = new Map<RetailEvent, number>();
  let eventCount = 0;
  let duplicateCount = 0;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}-${options.seed}-${(counter += 1)}`;
  /**
   * A time in the 4 hours before the phase's grid point, more than 30 min before it (a refund
   * follows its order by up to 20 min, so events stay more than 10 min before the grid point).
   */
  const timeIn = (phase: number) =>
    grid(phaseIndex(phase)).getTime() - random.int(31, 240) * 60_000 - random.int(0, 59_999);
  const add = (phase: number, key: string, event: RetailEvent, at: number) => {
    const list = sequences[phase]?.get(key) ?? [];
    sequences[phase]?.set(key, list);
    list.push(event);
    eventTimes.set(event, at);
    eventCount += 1;
  };
  const event = (
    phase: number,
    key: string,
    at: number,
    fields: Omit<RetailEvent, 'eventId' | 'occurredAt'>,
  ): RetailEvent => {
    const created: RetailEvent = {
      eventId: nextId('e'),
      occurredAt: new Date(at).toISOString(),
      ...fields,
    };
    add(phase, key, created, at);
    return created;
  };

  const plans: CustomerPlan[] = [];
  const profileIds: string[] = [];
  for (let n = 0; n < options.customers; n += 1) {
    const id = `c-${options.seed}-${n}`;
    const phase = random.int(0, phases - 1);
    const zoneTrait = random.chance(0.8) ? random.pick(ZONES) : undefined;
    const zone = zoneTrait ?? DEFAULT_ZONE;
    const plan: CustomerPlan = {
      id,
      phase,
      zone,
      hasPhone: random.chance(0.6),
      smsOptedIn: false,
      emailOptedOut: false,
      pushOptedOut: false,
    };
    plans.push(plan);
    profileIds.push(id);
    const customer = (fields: Omit<RetailEvent, 'eventId' | 'occurredAt' | 'customerId'>) => ({
      customerId: id,
      ...fields,
    });

    // Registration, with the traits every channel needs.
    const registeredAt = timeIn(phase);
    const traits: Record<string, unknown> = {
      email: `${id}@example.com`,
      firstName: random.pick(['Ann', 'Bob', 'Chidi', 'Dana', 'Eun', 'Farah', 'Gus', 'Hana']),
    };
    if (plan.hasPhone) traits['phone'] = `+1415${String(1_000_000 + n).padStart(7, '0')}`;
    if (zoneTrait) traits['timezone'] = zoneTrait;
    const birthday = birthdayFor(random, {
      zone,
      earliest: grid(phaseIndex(phase)).getTime() + 6 * 3_600_000,
      latest: grid(lastGridIndex).getTime() - followUpRoom,
    });
    if (birthday) traits['birthday'] = birthday;
    event(phase, id, registeredAt, customer({ type: 'customer.registered', traits }));
    if (random.chance(0.5)) {
      event(
        phase,
        id,
        registeredAt + 1000,
        customer({
          type: 'push.token.registered',
          properties: { token: `token-${id}`, platform: random.pick(['ios', 'android', 'web']) },
        }),
      );
    }
    // A historical import: too old to trigger, but it counts towards the orders.
    if (random.chance(0.05)) {
      event(
        phase,
        id,
        options.startsAt.getTime() - random.int(300, 500) * 86_400_000,
        customer({ type: 'order.placed', properties: order(random, nextId('o'), 40, 120) }),
      );
    }

    // An anonymous visitor, merged into the customer later (identity.linked).
    if (phase > 0 && random.chance(0.15)) {
      const anonymousId = `a-${options.seed}-${n}`;
      const visitPhase = random.int(0, phase - 1);
      profileIds.push(`anon:${anonymousId}`);
      const visitor = (fields: Omit<RetailEvent, 'eventId' | 'occurredAt' | 'anonymousId'>) => ({
        anonymousId,
        ...fields,
      });
      for (let i = random.int(2, 4); i > 0; i -= 1) {
        const kind = random.pick(['view', 'view', 'cart', 'order']);
        const at = timeIn(visitPhase);
        if (kind === 'order') {
          event(
            visitPhase,
            anonymousId,
            at,
            visitor({ type: 'order.placed', properties: order(random, nextId('o'), 30, 180) }),
          );
        } else if (kind === 'cart') {
          event(
            visitPhase,
            anonymousId,
            at,
            visitor({ type: 'cart.abandoned', properties: { cartId: nextId('cart') } }),
          );
        } else {
          event(
            visitPhase,
            anonymousId,
            at,
            visitor({ type: 'product.viewed', properties: { sku: `sku-${random.int(1, 50)}` } }),
          );
        }
      }
      const linkPhase = random.int(phase, phases - 1);
      event(linkPhase, id, linkPhase === phase ? registeredAt + 2000 : timeIn(linkPhase), {
        type: 'identity.linked',
        customerId: id,
        anonymousId,
      });
    }

    // Orders, refunds, carts, views and updates in the registration phase and later ones.
    const orders: { phase: number; at: number; orderId: string; total: number }[] = [];
    const strugglePhase = random.chance(0.2) ? random.int(phase, phases - 1) : -1;
    for (let k = phase; k < phases; k += 1) {
      const afterRegistration = (at: number) => (k === phase ? Math.max(at, registeredAt + 3000) : at);
      const orderCount = random.pick([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3]);
      for (let i = 0; i < orderCount; i += 1) {
        const at = afterRegistration(timeIn(k));
        const properties = order(random, nextId('o'), 20, 160);
        event(k, id, at, customer({ type: 'order.placed', properties }));
        orders.push({
          phase: k,
          at,
          orderId: String(properties['orderId']),
          total: Number(properties['total']),
        });
      }
      const carts = k === strugglePhase ? 3 : random.pick([0, 0, 0, 1]);
      for (let i = 0; i < carts; i += 1) {
        event(
          k,
          id,
          afterRegistration(timeIn(k)),
          customer({ type: 'cart.abandoned', properties: { cartId: nextId('cart') } }),
        );
      }
      for (let i = random.pick([0, 1, 1, 2]); i > 0; i -= 1) {
        event(
          k,
          id,
          afterRegistration(timeIn(k)),
          customer({ type: 'product.viewed', properties: { sku: `sku-${random.int(1, 50)}` } }),
        );
      }
      if (k > phase && random.chance(0.1)) {
        event(
          k,
          id,
          timeIn(k),
          customer({ type: 'customer.updated', traits: { firstName: random.pick(['Ana', 'Bo', 'Cy']) } }),
        );
      }
    }
    for (const placed of orders) {
      if (!random.chance(0.15)) continue;
      const k = random.int(placed.phase, phases - 1);
      const at = k === placed.phase ? placed.at + random.int(1, 20) * 60_000 : timeIn(k);
      const amount = (placed.total * random.pick([0.3, 0.5, 1])).toFixed(2);
      event(
        k,
        id,
        at,
        customer({
          type: 'order.refunded',
          properties: { orderId: placed.orderId, amount, currency: 'USD' },
        }),
      );
    }
  }

  // Views to reach the size asked for, on customers already registered in that phase.
  const registered = Array.from({ length: phases }, (_, phase) => plans.filter((p) => p.phase <= phase));
  const registeredBy = (phase: number) => registered[phase] ?? [];
  while (eventCount < options.events * (1 - DUPLICATE_SHARE)) {
    const phase = random.int(0, phases - 1);
    const candidates = registeredBy(phase);
    if (candidates.length === 0) continue;
    const plan = random.pick(candidates);
    event(phase, plan.id, timeIn(phase), {
      type: 'product.viewed',
      customerId: plan.id,
      properties: { sku: `sku-${random.int(1, 50)}` },
    });
  }

  // Arrival order within a sequence is time order; then duplicates, always behind their original.
  const ordered = sequences.map(
    (byKey) =>
      new Map(
        [...byKey].map(([key, events]) => [
          key,
          [...events].sort((a, b) => (eventTimes.get(a) ?? 0) - (eventTimes.get(b) ?? 0)),
        ]),
      ),
  );
  const all = ordered.flatMap((byKey, phase) =>
    [...byKey].flatMap(([key, events]) => events.map((e) => ({ phase, key, e }))),
  );
  const duplicates = Math.max(Math.round(eventCount * DUPLICATE_SHARE), options.events - eventCount);
  for (let i = 0; i < duplicates; i += 1) {
    const original = random.pick(all);
    const phase = random.chance(0.5) ? original.phase : random.int(original.phase, phases - 1);
    const byKey = ordered[phase];
    if (!byKey) continue;
    const list = byKey.get(original.key) ?? [];
    byKey.set(original.key, list);
    list.push({ ...original.e });
    eventCount += 1;
    duplicateCount += 1;
  }

  // Stages: per phase its events, consent changes, then clock moves; then the tail.
  const stages: Stage[] = [];
  let clockMoves = 0;
  let consentChangeCount = 0;
  const move = (index: number) => {
    stages.push({ kind: 'clock', now: grid(index).toISOString() });
    clockMoves += 1;
  };
  const consentStage = (changes: ConsentChange[]) => {
    stages.push({ kind: 'consent', changes });
    consentChangeCount += changes.length;
  };
  for (let phase = 0; phase < phases; phase += 1) {
    move(phaseIndex(phase));
    stages.push({
      kind: 'events',
      phase,
      sequences: [...(ordered[phase] ?? new Map<string, RetailEvent[]>())].map(([key, events]) => ({
        key,
        events,
      })),
    });
    consentStage(consentChanges(random, registeredBy(phase), phase));
    for (let step = 1; step <= MOVES_PER_PHASE; step += 1) move(phaseIndex(phase) + step);
  }
  const tailStart = phaseIndex(phases - 1) + MOVES_PER_PHASE;
  for (let step = 1; step <= TAIL_MOVES; step += 1) {
    move(tailStart + step);
    if (step === TAIL_CONSENT_AFTER) consentStage(consentChanges(random, plans, phases));
  }
  return {
    seed: options.seed,
    stages,
    profileIds,
    eventCount,
    duplicateCount,
    customerCount: options.customers,
    consentChangeCount,
    clockMoves,
  };
}

function order(random: SeededRandom, orderId: string, min: number, max: number): Record<string, unknown> {
  return { orderId, total: (random.int(min * 100, max * 100) / 100).toFixed(2), currency: 'USD' };
}

/**
 * A birthday (`YYYY-MM-DD`) whose 09:00 local time falls in [earliest, latest] for three
 * customers in four, so the clock moves cross it; otherwise one months away, never crossed.
 * Undefined for customers without one.
 */
function birthdayFor(
  random: SeededRandom,
  window: { zone: string; earliest: number; latest: number },
): string | undefined {
  if (!random.chance(0.6)) return undefined;
  // As many draws whichever branch is taken, so that the rest of the history never depends on the dates.
  const year = random.int(1960, 2005);
  const crossing = random.chance(0.75);
  const pickedAt = window.earliest + Math.floor(random.next() * Math.max(0, window.latest - window.earliest));
  const farDays = random.int(60, 200);
  const at = (millis: number) => DateTime.fromMillis(millis, { zone: window.zone });
  if (window.latest > window.earliest && crossing) {
    let day = at(pickedAt).set({ hour: BIRTHDAY_AT_HOUR, minute: 0, second: 0, millisecond: 0 });
    if (day.toMillis() < window.earliest) day = day.plus({ days: 1 });
    if (day.toMillis() > window.latest) day = day.minus({ days: 1 });
    if (day.toMillis() >= window.earliest && day.toMillis() <= window.latest) {
      return day.set({ year }).toFormat('yyyy-MM-dd');
    }
  }
  return at(window.latest + farDays * 86_400_000)
    .set({ year })
    .toFormat('yyyy-MM-dd');
}

/**
 * A stage's consent changes: half of the new customers with a phone opt in to SMS (an opt-in
 * channel), and some customers opt out of a channel (or back in), while follow-ups are pending.
 */
function consentChanges(
  random: SeededRandom,
  plans: readonly CustomerPlan[],
  phase: number,
): ConsentChange[] {
  const changes: ConsentChange[] = [];
  for (const plan of plans) {
    if (plan.phase === phase && plan.hasPhone && random.chance(0.5)) {
      plan.smsOptedIn = true;
      changes.push({ customerId: plan.id, channel: 'sms', status: 'opted_in' });
      continue;
    }
    if (plan.phase > phase) continue;
    if (random.chance(plan.emailOptedOut ? 0.2 : 0.05)) {
      plan.emailOptedOut = !plan.emailOptedOut;
      changes.push({
        customerId: plan.id,
        channel: 'email',
        status: plan.emailOptedOut ? 'opted_out' : 'opted_in',
      });
    } else if (!plan.pushOptedOut && random.chance(0.03)) {
      plan.pushOptedOut = true;
      changes.push({ customerId: plan.id, channel: 'push', status: 'opted_out' });
    } else if (plan.smsOptedIn && random.chance(0.08)) {
      plan.smsOptedIn = false;
      changes.push({ customerId: plan.id, channel: 'sms', status: 'opted_out' });
    }
  }
  return changes;
}

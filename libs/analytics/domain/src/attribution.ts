/**
 * Attribution: a conversion is the first goal event within the goal window after entry,
 * decided the same way for treatment and holdout, so the two rates compare like with like.
 * The window is the one journeys computed at entry, inclusive at both ends (as journeys counts
 * `reachedAt`), so analytics and `GET /v1/customers/{id}/journeys` agree on every customer.
 */

export type Group = 'treatment' | 'holdout';

export interface JourneyEntry {
  instanceId: string;
  journeyKey: string;
  customerId: string;
  group: Group;
  enteredAt: Date;
  /** The milestone's cause: it happened at the entry, and is never the entry's conversion. */
  causeEventId?: string | null;
  goal: { event: string; windowEndsAt: Date } | null;
}

export interface CustomerActivity {
  eventId: string;
  customerId: string;
  type: string;
  occurredAt: Date;
}

export interface Attribution {
  instanceId: string;
  /** The goal event that converted the entry. */
  eventId: string;
  convertedAt: Date;
}

export function withinGoalWindow(entry: JourneyEntry, at: Date): boolean {
  if (!entry.goal) return false;
  const time = at.getTime();
  return time >= entry.enteredAt.getTime() && time <= entry.goal.windowEndsAt.getTime();
}

/**
 * The conversion of each entry that has one among `activities` (any order, any customers):
 * its earliest goal event in the window, ties broken by event id so a replay picks the same one.
 */
export function attributeConversions(
  entries: readonly JourneyEntry[],
  activities: readonly CustomerActivity[],
): Attribution[] {
  const byCustomer = new Map<string, CustomerActivity[]>();
  for (const activity of activities) {
    const list = byCustomer.get(activity.customerId) ?? [];
    list.push(activity);
    byCustomer.set(activity.customerId, list);
  }
  const attributions: Attribution[] = [];
  for (const entry of entries) {
    const goal = entry.goal;
    if (!goal) continue;
    let first: CustomerActivity | undefined;
    for (const activity of byCustomer.get(entry.customerId) ?? []) {
      if (activity.type !== goal.event || !withinGoalWindow(entry, activity.occurredAt)) continue;
      if (activity.eventId === entry.causeEventId) continue;
      if (!first || isEarlier(activity, first)) first = activity;
    }
    if (first)
      attributions.push({
        instanceId: entry.instanceId,
        eventId: first.eventId,
        convertedAt: first.occurredAt,
      });
  }
  return attributions;
}

function isEarlier(a: CustomerActivity, b: CustomerActivity): boolean {
  const difference = a.occurredAt.getTime() - b.occurredAt.getTime();
  return difference < 0 || (difference === 0 && a.eventId < b.eventId);
}

export interface OrderFigures {
  orderId: string | null;
  /** The order total or the refunded amount, as the decimal string the event carried. */
  amount: string | null;
  currency: string | null;
}

const DECIMAL = /^\d{1,13}(\.\d{1,4})?$/;

/** The money of an `order.placed` (total) or `order.refunded` (amount); nulls for other events. */
export function orderFiguresOf(type: string, properties: Readonly<Record<string, unknown>>): OrderFigures {
  const text = (key: string): string | null => {
    const value = properties[key];
    return typeof value === 'string' ? value : null;
  };
  const amountKey = type === 'order.placed' ? 'total' : type === 'order.refunded' ? 'amount' : null;
  if (!amountKey) return { orderId: null, amount: null, currency: null };
  const amount = text(amountKey);
  return {
    orderId: text('orderId'),
    amount: amount && DECIMAL.test(amount) ? amount : null,
    currency: text('currency'),
  };
}

import type { ConsentChange, EventSequence, RetailEvent } from './history';
import type { ProviderFakes } from './fakes';
import { callUntilAnswered, forEachLimited } from './http';
import type { SeededRandom } from './random';

export type ServiceName = 'ingestion' | 'milestones' | 'delivery' | 'consent';

/** The platform the history is replayed into: the one-process oracle or the chaos cluster. */
/** The faults a deployment went through: kills (in all and by service), restarts survived, and what happened. */
export interface Faults {
  kills: number;
  killsByApp: Record<string, number>;
  survived: number;
  log: string[];
}

export interface Deployment {
  readonly name: string;
  readonly fakes: ProviderFakes;
  /** Where a service's HTTP API answers (the first instance of the service). */
  url(service: ServiceName): string;
  /** Replays one events stage. */
  postEvents(stage: number, sequences: readonly EventSequence[]): Promise<void>;
  applyConsent(changes: readonly ConsentChange[]): Promise<void>;
  moveClock(now: Date): Promise<void>;
  /** Called before each stage: faults are only injected while events flow or the clock moves. */
  beforeStage(kind: 'clock' | 'events' | 'consent'): Promise<void>;
  /** Returns once every consumer caught up and nothing changed for a while. */
  settle(what: string): Promise<void>;
  /** Stops injecting faults and waits for the last restart: the outcome is read on a whole deployment. */
  endFaults(): Promise<void>;
  /** Faults injected so far. */
  faults(): Faults;
  stop(): Promise<void>;
}

/** Events refused by ingestion, counted per deployment: both should refuse the same ones. */
export interface Rejections {
  count: number;
  first: string[];
}

/** Posts events over HTTP (one or a batch), retrying through restarts; counts what was refused. */
export async function postBatch(
  url: () => string,
  events: readonly RetailEvent[],
  rejections: Rejections,
): Promise<void> {
  const body = events.length === 1 ? events[0] : { batch: events };
  const answer = await callUntilAnswered(url, '/v1/events', 'POST', body);
  if (answer.status === 202) {
    const rejected: unknown = Reflect.get(Object(answer.body), 'rejected');
    if (Array.isArray(rejected) && rejected.length > 0)
      note(rejections, JSON.stringify(rejected[0]), rejected.length);
    return;
  }
  note(rejections, `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`, events.length);
}

function note(rejections: Rejections, what: string, count: number): void {
  rejections.count += count;
  if (rejections.first.length < 5) rejections.first.push(what);
}

/** Applies a consent stage: one PUT per change, each answered before the stage ends. */
export async function applyConsent(url: () => string, changes: readonly ConsentChange[]): Promise<void> {
  await forEachLimited(changes, 8, async (change) => {
    const answer = await callUntilAnswered(
      url,
      `/v1/customers/${encodeURIComponent(change.customerId)}/consent/${change.channel}`,
      'PUT',
      { status: change.status, source: 'chaos' },
    );
    if (answer.status !== 200) {
      throw new Error(
        `PUT consent of ${change.customerId} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
      );
    }
  });
}

/**
 * Interleaves sequences at random while keeping each one's order: the stream a retailer's
 * many customers make, in which each customer's own events stay in order.
 */
export function interleave(
  random: SeededRandom,
  sequences: readonly EventSequence[],
): { key: string; event: RetailEvent }[] {
  const cursors = sequences.map((sequence) => ({ sequence, next: 0 }));
  const out: { key: string; event: RetailEvent }[] = [];
  while (cursors.length > 0) {
    const index = random.int(0, cursors.length - 1);
    const cursor = cursors[index];
    if (!cursor) break;
    for (let take = random.int(1, 3); take > 0 && cursor.next < cursor.sequence.events.length; take -= 1) {
      const event = cursor.sequence.events[cursor.next];
      cursor.next += 1;
      if (event) out.push({ key: cursor.sequence.key, event });
    }
    if (cursor.next >= cursor.sequence.events.length) cursors.splice(index, 1);
  }
  return out;
}

/** Cuts a stream into chunks of sizes drawn from `sizes`. */
export function chunk<T>(random: SeededRandom, items: readonly T[], sizes: readonly number[]): T[][] {
  const chunks: T[][] = [];
  for (let at = 0; at < items.length;) {
    const size = random.pick(sizes);
    chunks.push(items.slice(at, at + size));
    at += size;
  }
  return chunks;
}

import { CLOCK, type Clock } from '@mmp/clock';
import { nextFire } from '@mmp/milestones-domain';
import { isTimedMilestone, ProgramStore, type TimedMilestone } from '@mmp/program';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { CustomerViewStore } from '../../store/customer-view.store';
import { ScheduleStore, type Coverage, type ScheduleEntry } from '../../store/schedule.store';

export const SNAPSHOTS_PER_PAGE = 20_000;

/** What the coverage table keeps of a definition: a changed one is scheduled for everyone again. */
function definitionOf(milestone: TimedMilestone): string {
  return JSON.stringify(milestone);
}

/**
 * The moment each time-based milestone applies from, by key: when its current definition was
 * scheduled for everyone, or `now` while it has not been yet (it joined the program a moment
 * ago). Customer events never schedule a firing before it, however long ago they happened, so
 * a milestone added later applies from then on for late events too.
 */
export function appliesFromOf(
  milestones: readonly TimedMilestone[],
  coverage: ReadonlyMap<string, Coverage>,
  now: Date,
): Map<string, Date> {
  return new Map(
    milestones.map((milestone) => {
      const covered = coverage.get(milestone.key);
      if (covered?.definition !== definitionOf(milestone)) return [milestone.key, now];
      // A coverage time later than now means the clock went back (a sandbox process restarted
      // on the wall clock): it must not hold every event's firings off until then.
      return [milestone.key, covered.coveredAt.getTime() <= now.getTime() ? covered.coveredAt : now];
    }),
  );
}

/**
 * Keeps the schedule in step with the program. A time-based milestone that is new (or whose
 * definition changed) is scheduled for every known customer from now on: its next firing after
 * now, so customers already past it this year are not blasted retroactively; that moment is
 * kept as its coverage time, which later events schedule from at the earliest (`appliesFromOf`).
 * One that left the program loses its schedule. Cheap when nothing changed: one small query.
 */
@Injectable()
export class CoverProgramUsecase {
  private readonly logger = new Logger(CoverProgramUsecase.name);

  constructor(
    private readonly schedule: ScheduleStore,
    private readonly customerView: CustomerViewStore,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(): Promise<void> {
    const { milestones, policies } = this.program.current();
    const timed = milestones.filter(isTimedMilestone);
    const covered = await this.schedule.coverage();
    for (const key of covered.keys()) {
      if (!timed.some((milestone) => milestone.key === key)) await this.schedule.dropMilestone(key);
    }
    for (const milestone of timed) {
      const definition = definitionOf(milestone);
      if (covered.get(milestone.key)?.definition === definition) continue;
      // A changed definition replaces every entry; a new milestone only fills in missing ones.
      const replace = covered.has(milestone.key);
      const now = this.clock.now();
      const scheduled = await this.scheduleEveryone(milestone, policies.timezone, replace, now);
      await this.schedule.markCovered(milestone.key, definition, now);
      this.logger.log(`scheduled ${milestone.key} for ${scheduled} customers`);
    }
  }

  /**
   * Schedules one milestone for every customer, a page of snapshots at a time; returns how many
   * got a firing. The next page is read while the current one is computed and written, so the
   * database and this process work side by side.
   */
  async scheduleEveryone(
    milestone: TimedMilestone,
    defaultZone: string,
    replace: boolean,
    now: Date,
  ): Promise<number> {
    let scheduled = 0;
    let page = await this.customerView.snapshotPage('', SNAPSHOTS_PER_PAGE);
    for (;;) {
      const last = page[page.length - 1];
      if (!last) return scheduled;
      const nextPage = this.customerView.snapshotPage(last.customerId, SNAPSHOTS_PER_PAGE);
      // Read errors surface when the page is awaited below; until then they must not go unhandled.
      nextPage.catch(() => undefined);
      const entries: ScheduleEntry[] = [];
      const unscheduled: { customerId: string; milestoneKey: string }[] = [];
      for (const snapshot of page) {
        const fire = nextFire(milestone, snapshot, defaultZone, now);
        if (fire) entries.push({ customerId: snapshot.customerId, milestoneKey: milestone.key, fire });
        else unscheduled.push({ customerId: snapshot.customerId, milestoneKey: milestone.key });
      }
      await this.schedule.upsertSchedule(this.schedule.db, entries, replace ? 'none' : 'all');
      if (replace) await this.schedule.unschedule(this.schedule.db, unscheduled);
      scheduled += entries.length;
      page = await nextPage;
    }
  }
}

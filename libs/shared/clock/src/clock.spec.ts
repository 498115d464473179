import { AppError } from '@mmp/errors';
import { FixedClock, SandboxClock } from './clock';

describe('SandboxClock', () => {
  it('moves forward and keeps ticking from the new time', () => {
    let wall = Date.parse('2027-01-01T00:00:00Z');
    const clock = new SandboxClock(() => wall);
    clock.moveTo(new Date('2027-03-01T09:00:00Z'));
    wall += 1500;
    expect(clock.now().toISOString()).toBe('2027-03-01T09:00:01.500Z');
  });

  it('lands exactly on the target, however much wall time passes while it moves', () => {
    let wall = Date.parse('2027-01-01T00:00:00Z');
    // A wall clock a millisecond later at every reading, as a real one may be between two reads.
    const clock = new SandboxClock(() => wall++);
    const seen: string[] = [];
    clock.onAdvance((now) => seen.push(now.toISOString()));

    expect(clock.moveTo(new Date('2027-03-01T09:00:00Z')).now.toISOString()).toBe('2027-03-01T09:00:00.000Z');
    expect(seen).toEqual(['2027-03-01T09:00:00.000Z']);
    expect(clock.now().toISOString()).toBe('2027-03-01T09:00:00.001Z');
  });

  it('refuses to move back with a conflict and stays where it was', () => {
    const wall = Date.parse('2027-01-01T00:00:00Z');
    const clock = new SandboxClock(() => wall);
    clock.moveTo(new Date('2027-02-01T00:00:00Z'));
    expect(() => clock.moveTo(new Date('2027-01-15T00:00:00Z'))).toThrow(AppError);
    try {
      clock.moveTo(new Date('2027-01-15T00:00:00Z'));
    } catch (error) {
      expect((error as AppError).code).toBe('conflict');
    }
    expect(clock.now().toISOString()).toBe('2027-02-01T00:00:00.000Z');
  });

  it('tells listeners when time jumps', () => {
    const clock = new SandboxClock(() => 0);
    const seen: string[] = [];
    clock.onAdvance((now) => seen.push(now.toISOString()));
    clock.moveTo(new Date('2027-01-02T00:00:00Z'));
    expect(seen).toEqual(['2027-01-02T00:00:00.000Z']);
  });

  describe('following a move made by another process', () => {
    const start = Date.parse('2027-01-01T00:00:00Z');

    it("lands on the mover's time however late the move arrives, and tells listeners", () => {
      let wall = start;
      const mover = new SandboxClock(() => wall);
      const follower = new SandboxClock(() => wall);
      const seen: string[] = [];
      follower.onAdvance((now) => seen.push(now.toISOString()));
      mover.moveTo(new Date('2027-06-10T13:05:00Z'));
      const move = mover.reading();
      // An hour of lag, or a restart an hour later: the follower is not an hour behind the mover.
      wall += 3_600_000;

      expect(follower.follow(move)).toBe(true);

      expect(follower.now().toISOString()).toBe('2027-06-10T14:05:00.000Z');
      expect(follower.now().toISOString()).toBe(mover.now().toISOString());
      expect(seen).toEqual(['2027-06-10T14:05:00.000Z']);
    });

    it('ignores a move behind its clock, and one equal to it, telling no listener', () => {
      const wall = start;
      const clock = new SandboxClock(() => wall);
      clock.moveTo(new Date('2027-03-01T00:00:00Z'));
      const seen: string[] = [];
      clock.onAdvance((now) => seen.push(now.toISOString()));

      expect(clock.follow({ now: new Date('2027-02-01T00:00:00Z'), wallTime: new Date(wall) })).toBe(false);
      expect(clock.follow(clock.reading())).toBe(false);

      expect(clock.now().toISOString()).toBe('2027-03-01T00:00:00.000Z');
      expect(seen).toEqual([]);
    });

    it('reads its time and the wall time at one instant', () => {
      let wall = start;
      // A wall clock that ticks between any two reads: two reads would skew the offset.
      const clock = new SandboxClock(() => (wall += 7));
      clock.moveTo(new Date('2027-03-01T00:00:00Z'));
      const { now, wallTime } = clock.reading();
      expect(now.getTime() - wallTime.getTime()).toBe(Date.parse('2027-03-01T00:00:00Z') - start - 7);
    });
  });
});

describe('FixedClock', () => {
  it('stands still until advanced', () => {
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    clock.advanceBy(60_000);
    expect(clock.now().toISOString()).toBe('2027-01-01T00:01:00.000Z');
  });
});

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

    expect(clock.moveTo(new Date('2027-03-01T09:00:00Z')).toISOString()).toBe('2027-03-01T09:00:00.000Z');
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
});

describe('FixedClock', () => {
  it('stands still until advanced', () => {
    const clock = new FixedClock(new Date('2027-01-01T00:00:00Z'));
    clock.advanceBy(60_000);
    expect(clock.now().toISOString()).toBe('2027-01-01T00:01:00.000Z');
  });
});

import { Progress } from './progress';

describe('Progress', () => {
  it('resolves a waiter once its condition holds after a notify', async () => {
    const progress = new Progress(10_000);
    let count = 0;
    const waiting = progress.until(
      () => count >= 2,
      () => 'two',
    );
    count = 1;
    progress.notify();
    count = 2;
    progress.notify();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('resolves at once when the condition already holds', async () => {
    await expect(
      new Progress(10).until(
        () => true,
        () => 'nothing',
      ),
    ).resolves.toBeUndefined();
  });

  it('fails a waiter when nothing moved for the stall timeout, naming what it waited for', async () => {
    const progress = new Progress(50);
    await expect(
      progress.until(
        () => false,
        () => '3 emails',
      ),
    ).rejects.toThrow(/stalled for \d+ s waiting for 3 emails/);
  });

  it('fails current and later waiters once failed', async () => {
    const progress = new Progress(10_000);
    const waiting = progress.until(
      () => false,
      () => 'the sink',
    );
    progress.fail(new Error('consumer crashed'));
    await expect(waiting).rejects.toThrow('consumer crashed (while waiting for the sink)');
    await expect(
      progress.until(
        () => true,
        () => 'anything',
      ),
    ).rejects.toThrow('consumer crashed');
  });
});

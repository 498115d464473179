import { register } from 'prom-client';
import { addScrapedGaugeSource, SCRAPE_SOURCE_TIMEOUT_MS } from './scraped-gauge';

const backlog = {
  name: 'spec_backlog',
  help: 'A backlog for the spec.',
  labelNames: ['queue'] as const,
};

describe('addScrapedGaugeSource', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('reads every source at each scrape, each with its own labels, and forgets a removed one', async () => {
    let depth = 3;
    const removeFirst = addScrapedGaugeSource(backlog, async () => [
      { labels: { queue: 'a' }, value: depth },
    ]);
    const removeSecond = addScrapedGaugeSource(backlog, async () => [{ labels: { queue: 'b' }, value: 7 }]);

    expect(await register.getSingleMetricAsString('spec_backlog')).toContain('spec_backlog{queue="a"} 3');
    depth = 5;
    const text = await register.getSingleMetricAsString('spec_backlog');
    expect(text).toContain('spec_backlog{queue="a"} 5');
    expect(text).toContain('spec_backlog{queue="b"} 7');

    removeFirst();
    const after = await register.getSingleMetricAsString('spec_backlog');
    expect(after).not.toContain('queue="a"');
    expect(after).toContain('spec_backlog{queue="b"} 7');
    removeSecond();
  });

  it('leaves out a source that fails or does not answer in time, keeping the others', async () => {
    const removers = [
      addScrapedGaugeSource(backlog, () => Promise.reject(new Error('connection refused'))),
      addScrapedGaugeSource(backlog, () => new Promise(() => undefined)),
      addScrapedGaugeSource(backlog, async () => [{ labels: { queue: 'ok' }, value: 1 }]),
    ];
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });

    const scrape = register.getSingleMetricAsString('spec_backlog');
    await jest.advanceTimersByTimeAsync(SCRAPE_SOURCE_TIMEOUT_MS);
    const text = await scrape;

    expect(text.split('\n').filter((line) => line.startsWith('spec_backlog'))).toEqual([
      'spec_backlog{queue="ok"} 1',
    ]);
    for (const remove of removers) remove();
  });
});

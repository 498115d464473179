import { isValidLocale } from './message-composer';

describe('isValidLocale', () => {
  it('answers what Intl says of a tag, the same the second time (from its memo)', () => {
    for (let round = 0; round < 2; round++) {
      expect(isValidLocale({ locale: 'fr-FR', timezone: 'Europe/Paris' })).toBe(true);
      expect(isValidLocale({ locale: 'not a locale!', timezone: 'UTC' })).toBe(false);
    }
  });

  it('keeps answering once its memo filled up and was emptied', () => {
    for (let i = 0; i < 1_100; i++) isValidLocale({ locale: `x-private-${i}`, timezone: 'UTC' });
    expect(isValidLocale({ locale: 'de-DE', timezone: 'UTC' })).toBe(true);
    expect(isValidLocale({ locale: '!!', timezone: 'UTC' })).toBe(false);
  });
});

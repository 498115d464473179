import { consentAllows } from './consent-decision';

describe('consentAllows', () => {
  it.each([
    ['opt-out', undefined, true],
    ['opt-out', 'opted_in', true],
    ['opt-out', 'opted_out', false],
    ['opt-in', undefined, false],
    ['opt-in', 'opted_in', true],
    ['opt-in', 'opted_out', false],
  ] as const)('under %s with %s sends: %s', (model, state, expected) => {
    expect(consentAllows(model, state)).toBe(expected);
  });
});

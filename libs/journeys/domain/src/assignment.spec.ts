import { chooseVariant, instanceIdOf, isInHoldout, messageIdOf } from './assignment';

describe('isInHoldout', () => {
  const customers = Array.from({ length: 10_000 }, (_, i) => `c-${i}`);

  it('holds out the configured share within tolerance', () => {
    const held = customers.filter((c) => isInHoldout(c, 'birthday_sequence', 10)).length;
    expect(held).toBeGreaterThan(900);
    expect(held).toBeLessThan(1100);
  });

  it('assigns identically on every run', () => {
    const first = customers.filter((c) => isInHoldout(c, 'birthday_sequence', 10));
    const second = customers.filter((c) => isInHoldout(c, 'birthday_sequence', 10));
    expect(second).toEqual(first);
  });

  it('holds out nobody at 0% and everybody at 100%', () => {
    expect(customers.some((c) => isInHoldout(c, 'j', 0))).toBe(false);
    expect(customers.every((c) => isInHoldout(c, 'j', 100))).toBe(true);
  });
});

describe('chooseVariant', () => {
  const variants = [
    { template: 'followup_a', weight: 50 },
    { template: 'followup_b', weight: 50 },
  ];

  it('splits by weight and keeps each customer on one variant', () => {
    const picks = Array.from(
      { length: 4000 },
      (_, i) => chooseVariant(`c-${i}`, 'j', 'nudge', variants).template,
    );
    const a = picks.filter((p) => p === 'followup_a').length;
    expect(a).toBeGreaterThan(1800);
    expect(a).toBeLessThan(2200);
    expect(chooseVariant('c-7', 'j', 'nudge', variants)).toBe(chooseVariant('c-7', 'j', 'nudge', variants));
  });
});

describe('ids', () => {
  it('are deterministic and distinct', () => {
    const instance = instanceIdOf('second_order_thanks', 'occ_1');
    expect(instance).toBe(instanceIdOf('second_order_thanks', 'occ_1'));
    expect(messageIdOf(instance, 'thank')).toBe(messageIdOf(instance, 'thank'));
    expect(messageIdOf(instance, 'thank')).not.toBe(messageIdOf(instance, 'nudge'));
  });
});

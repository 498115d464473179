import { AppError, type ErrorDetail } from '@mmp/errors';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProgramFromDir, parseProgram, stringifyProgram, validateProgram } from './parse-program';

interface ErrorLike {
  message: string;
  details: readonly { path: string; message: string }[];
}

/** SPEC section 5, verbatim. */
const SPEC_EXAMPLE = `policies:
  timezone: America/New_York            # for customers without one
  consent: { email: opt-out, sms: opt-in, push: opt-in }
  quietHours: { start: "21:00", end: "08:00", channels: [sms, push] }   # deferred to the end
  frequencyCaps:
    - { channel: any, max: 1, per: 1d }   # over cap: skipped, recorded as suppressed
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
  - { key: vip_gold, kind: threshold, attribute: lifetimeValue, gte: 200, rearm: true }
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
  - { key: signup_anniversary, kind: anniversary, date: registeredAt, at: "10:00" }
  - { key: first_order_anniversary, kind: anniversary, date: firstOrderAt, at: "10:00" }
  - { key: welcome_day_30, kind: after, date: registeredAt, days: 30, at: "10:00" }
  - { key: lapsed_60d, kind: inactivity, event: order.placed, days: 60, at: "10:00" }
  - { key: cart_struggle, kind: windowed_count, event: cart.abandoned, n: 3, withinDays: 14 }
journeys:
  - key: birthday_sequence
    trigger: birthday
    priority: 10                        # same-day collisions: the higher priority sends
    holdoutPercent: 10
    goal: { event: order.placed, withinDays: 7 }
    exitOn: [order.placed]
    steps:
      - { id: celebrate, send: { template: birthday_email } }
      - { id: pause, wait: { days: 2 } }
      - { id: check, branch: { if: { eventSinceEntry: order.placed }, then: exit } }
      - { id: nudge, send: { variants: [ { template: followup_a, weight: 50 }, { template: followup_b, weight: 50 } ] } }
templates:
  birthday_email:
    channel: email
    subject: "Happy birthday, {{customer.firstName}}!"
    html: "<p>Enjoy 20% off with {{offer.code}}</p><a href=\\"https://shop.example/\\">Shop</a>"
    text: "Enjoy 20% off with {{offer.code}}"
  birthday_sms: { channel: sms, body: "Happy birthday {{customer.firstName}}! Reply STOP to opt out" }
`;

const FOLLOW_UPS = `  followup_a: { channel: email, subject: "Still time, {{customer.firstName}}", text: "Use {{offer.code}}" }
  followup_b: { channel: email, subject: "Last chance", html: "<p>Use {{offer.code}}</p>" }
`;

function problemsOf(run: () => unknown): ErrorLike {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError)
      return { message: error.message, details: (error.details ?? []).map(placeChecked) };
    throw error;
  }
  throw new Error('expected the program to be rejected');
}

/**
 * A detail's `line` and `column` are its place in the message, as numbers (the console marks the
 * editor there): checked against the message here, then left out so specs compare path and message.
 */
function placeChecked({ line, column, ...detail }: ErrorDetail): ErrorDetail {
  const place = /:(\d+):(\d+)\)$/.exec(detail.message);
  expect(place ? { line: Number(place[1]), column: Number(place[2]) } : {}).toEqual(
    line === undefined ? {} : { line, column },
  );
  return detail;
}

describe('parseProgram', () => {
  describe('with the SPEC example', () => {
    it('reports only the two follow-up templates the example names but does not define', () => {
      expect(problemsOf(() => parseProgram(SPEC_EXAMPLE)).details).toEqual([
        {
          path: 'journeys[0].steps[3].send.variants[0].template',
          message: 'must name a template: no template is called "followup_a" (program.yaml:27:54)',
        },
        {
          path: 'journeys[0].steps[3].send.variants[1].template',
          message: 'must name a template: no template is called "followup_b" (program.yaml:27:92)',
        },
      ]);
    });

    it('parses once the follow-up templates are added, filling in the defaults', () => {
      const program = parseProgram(SPEC_EXAMPLE + FOLLOW_UPS);
      expect(program.policies).toEqual({
        timezone: 'America/New_York',
        consent: { email: 'opt-out', sms: 'opt-in', push: 'opt-in' },
        quietHours: { start: '21:00', end: '08:00', channels: ['sms', 'push'] },
        frequencyCaps: [{ channel: 'any', max: 1, per: '1d' }],
        maxTriggerAgeHours: 48,
        milestoneGracePeriod: '6h',
      });
      expect(program.milestones.map((m) => `${m.key}:${m.kind}`)).toEqual([
        'second_order:nth_event',
        'vip_gold:threshold',
        'birthday:anniversary',
        'signup_anniversary:anniversary',
        'first_order_anniversary:anniversary',
        'welcome_day_30:after',
        'lapsed_60d:inactivity',
        'cart_struggle:windowed_count',
      ]);
      expect(program.milestones[1]).toEqual({
        key: 'vip_gold',
        kind: 'threshold',
        attribute: 'lifetimeValue',
        gte: 200,
        rearm: true,
      });
      expect(program.journeys).toEqual([
        {
          key: 'birthday_sequence',
          trigger: 'birthday',
          priority: 10,
          holdoutPercent: 10,
          goal: { event: 'order.placed', withinDays: 7 },
          exitOn: ['order.placed'],
          steps: [
            { id: 'celebrate', send: { template: 'birthday_email' } },
            { id: 'pause', wait: { days: 2 } },
            { id: 'check', branch: { if: { eventSinceEntry: 'order.placed' }, then: 'exit' } },
            {
              id: 'nudge',
              send: {
                variants: [
                  { template: 'followup_a', weight: 50 },
                  { template: 'followup_b', weight: 50 },
                ],
              },
            },
          ],
        },
      ]);
      expect(Object.keys(program.templates)).toEqual([
        'birthday_email',
        'birthday_sms',
        'followup_a',
        'followup_b',
      ]);
      expect(program.templates['birthday_sms']).toEqual({
        channel: 'sms',
        body: 'Happy birthday {{customer.firstName}}! Reply STOP to opt out',
      });
    });
  });

  describe('with the default program in program/program.yaml', () => {
    const source = readFileSync(resolve(__dirname, '../../../../program/program.yaml'), 'utf8');

    it('parses with every SPEC milestone and both journeys', () => {
      const program = parseProgram(source);
      expect(program.milestones).toHaveLength(8);
      expect(program.journeys.map((j) => [j.key, j.trigger, j.priority])).toEqual([
        ['birthday_sequence', 'birthday', 10],
        ['second_order_thanks', 'second_order', 5],
      ]);
      expect(program.journeys[1]?.steps).toEqual([{ id: 'thank', send: { template: 'second_order_email' } }]);
      expect(program.templates['second_order_email']).toEqual({
        channel: 'email',
        subject: 'Thanks for your second order, {{customer.firstName}}!',
        html: '<p>Your order {{milestone.n}} means a lot to us.</p>',
        text: 'Your order {{milestone.n}} means a lot to us.',
      });
    });
  });

  it('fills every default into an empty mapping', () => {
    expect(parseProgram('{}')).toEqual({
      policies: {
        timezone: 'UTC',
        consent: { email: 'opt-out', sms: 'opt-in', push: 'opt-in' },
        frequencyCaps: [],
        maxTriggerAgeHours: 48,
        milestoneGracePeriod: '6h',
      },
      milestones: [],
      journeys: [],
      templates: {},
    });
  });

  it('reads where conditions, profile branches, waits until a time and push templates', () => {
    const program = parseProgram(`
milestones:
  - key: vip_ca
    kind: threshold
    attribute: eventCounts.order.placed
    gte: 5
    where: { traits.country: { in: [US, CA] }, attributes.lifetimeOrders: { gte: 1 } }
journeys:
  - key: vip
    trigger: vip_ca
    offer: { code: VIP, percent: 15 }
    steps:
      - { id: morning, wait: { until: "09:00" } }
      - { id: check, branch: { if: { traits.vip: { exists: true } }, then: push, else: exit } }
      - { id: push, send: { template: vip_push } }
templates:
  vip_push: { channel: push, title: "Hi {{customer.firstName}}", body: "{{offer.percent}}% off", data: { url: "https://shop.example/{{offer.code}}" } }
`);
    expect(program.milestones[0]).toEqual({
      key: 'vip_ca',
      kind: 'threshold',
      attribute: 'eventCounts.order.placed',
      gte: 5,
      rearm: false,
      where: { 'traits.country': { in: ['US', 'CA'] }, 'attributes.lifetimeOrders': { gte: 1 } },
    });
    expect(program.journeys[0]?.steps).toEqual([
      { id: 'morning', wait: { until: '09:00' } },
      { id: 'check', branch: { if: { 'traits.vip': { exists: true } }, then: 'push', else: 'exit' } },
      { id: 'push', send: { template: 'vip_push' } },
    ]);
  });
});

describe('parseProgram with YAML anchors', () => {
  it('merges a shared mapping into several templates', () => {
    const program = parseProgram(`
templates:
  base: &email { channel: email, subject: "Hello {{customer.firstName}}", text: "Hello" }
  welcome: { <<: *email, text: "Welcome" }
`);
    expect(program.templates['welcome']).toEqual({
      channel: 'email',
      subject: 'Hello {{customer.firstName}}',
      text: 'Welcome',
    });
  });
});

/** A valid program that each bad case below breaks in one place. */
const BASE = `policies:
  timezone: America/New_York
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
journeys:
  - key: birthday_sequence
    trigger: birthday
    holdoutPercent: 10
    steps:
      - { id: celebrate, send: { template: birthday_email } }
      - { id: pause, wait: { days: 2 } }
      - { id: check, branch: { if: { eventSinceEntry: order.placed }, then: exit } }
      - { id: nudge, send: { variants: [ { template: followup_a, weight: 50 }, { template: followup_b, weight: 50 } ] } }
templates:
  birthday_email: { channel: email, subject: "Happy birthday, {{customer.firstName}}!", text: "Hi {{offer.code}}" }
  followup_a: { channel: email, subject: "A", text: "a" }
  followup_b: { channel: sms, body: "b" }
`;

describe('parseProgram with a bad program', () => {
  it('accepts the base program the cases below break', () => {
    expect(() => parseProgram(BASE)).not.toThrow();
  });

  it.each<[string, string, string, string, string]>([
    [
      'a string where a number belongs',
      'n: 2 }',
      'n: two }',
      'milestones[0].n',
      'must be a positive integer (program.yaml:4:67)',
    ],
    [
      'a negative n',
      'n: 2 }',
      'n: -1 }',
      'milestones[0].n',
      'must be a positive integer (program.yaml:4:67)',
    ],
    [
      'an unknown milestone kind',
      'kind: nth_event',
      'kind: nth_evnt',
      'milestones[0].kind',
      'must be one of nth_event, threshold, anniversary, after, inactivity, windowed_count (got "nth_evnt"; did you mean "nth_event"?) (program.yaml:4:32)',
    ],
    [
      'a misspelled key',
      'holdoutPercent: 10',
      'holdoutPercnt: 10',
      'journeys[0].holdoutPercnt',
      'unknown key (did you mean "holdoutPercent"?) (program.yaml:9:5)',
    ],
    [
      'a trigger naming no milestone',
      'trigger: birthday',
      'trigger: birthdy',
      'journeys[0].trigger',
      'must name a milestone: no milestone has the key "birthdy" (did you mean "birthday"?) (program.yaml:8:14)',
    ],
    [
      'a missing trigger',
      '    trigger: birthday\n',
      '',
      'journeys[0].trigger',
      'is required (program.yaml:7:5)',
    ],
    [
      'a duplicate step id',
      'id: pause',
      'id: celebrate',
      'journeys[0].steps[1].id',
      'duplicate step id "celebrate": already used by steps[0] (program.yaml:12:15)',
    ],
    [
      'a branch target naming no step',
      'then: exit',
      'then: nowhere',
      'journeys[0].steps[2].branch.then',
      'must be "exit" or the id of a later step: no step has the id "nowhere" (program.yaml:13:77)',
    ],
    [
      'a branch target pointing back',
      'then: exit',
      'then: celebrate',
      'journeys[0].steps[2].branch.then',
      'must be "exit" or the id of a later step: "celebrate" is not after this step (loops are not allowed) (program.yaml:13:77)',
    ],
    [
      'a send naming a missing template',
      'template: followup_a',
      'template: followup_c',
      'journeys[0].steps[3].send.variants[0].template',
      'must name a template: no template is called "followup_c" (did you mean "followup_a"?) (program.yaml:14:54)',
    ],
    [
      'a template that is not valid Handlebars',
      'text: "Hi {{offer.code}}"',
      'text: "Hi {{offer.code}"',
      'templates.birthday_email.text',
      "is not a valid Handlebars template: Parse error on line 1: Expecting 'CLOSE_RAW_BLOCK', 'CLOSE', 'CLOSE_UNESCAPED', 'OPEN_SEXPR', 'CLOSE_SEXPR', 'ID', 'OPEN_BLOCK_PARAMS', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', 'SEP', got 'INVALID' (program.yaml:16:95)",
    ],
    [
      'a Handlebars block closed by another',
      'text: "a"',
      'text: "{{#if offer}}a{{/each}}"',
      'templates.followup_a.text',
      "is not a valid Handlebars template: if doesn't match each - 1:3 (program.yaml:17:53)",
    ],
    [
      'a time past 23:59',
      'at: "09:00"',
      'at: "24:00"',
      'milestones[1].at',
      'must be a time "HH:MM" between 00:00 and 23:59 (program.yaml:5:61)',
    ],
    [
      'an unknown time zone',
      'America/New_York',
      'America/Nowhere',
      'policies.timezone',
      'must be an IANA time zone such as "America/New_York" or "UTC" (program.yaml:2:13)',
    ],
    [
      'a variant weight of zero',
      'weight: 50 }, { template: followup_b',
      'weight: 0 }, { template: followup_b',
      'journeys[0].steps[3].send.variants[0].weight',
      'must be a positive number (program.yaml:14:74)',
    ],
    [
      'a duration that does not parse',
      'timezone: America/New_York',
      'timezone: America/New_York\n  frequencyCaps: [ { channel: any, max: 1, per: 1 day } ]',
      'policies.frequencyCaps[0].per',
      'must be a duration such as "30m", "12h" or "7d" (a positive whole number of minutes, hours or days) (program.yaml:3:49)',
    ],
    [
      'a YAML syntax error',
      'holdoutPercent: 10',
      'holdoutPercent: [10',
      '',
      'YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ] (program.yaml:10:5)',
    ],
    [
      'a YAML key given twice',
      'holdoutPercent: 10',
      'holdoutPercent: 10\n    holdoutPercent: 20',
      '',
      'YAML syntax error: Map keys must be unique (program.yaml:10:5)',
    ],
    [
      'an unknown channel',
      'channel: sms',
      'channel: whatsapp',
      'templates.followup_b.channel',
      'must be one of email, sms, push (got "whatsapp") (program.yaml:18:26)',
    ],
    [
      'an email without a body',
      ', text: "a" }',
      ' }',
      'templates.followup_a',
      'must have a body: html, text or both (program.yaml:17:15)',
    ],
    [
      'a step with two actions',
      '{ id: pause, wait: { days: 2 } }',
      '{ id: pause, wait: { days: 2 }, send: { template: followup_a } }',
      'journeys[0].steps[1]',
      'must have only one of send, wait or branch: split it into several steps (program.yaml:12:9)',
    ],
    [
      'a wait of zero',
      'days: 2',
      'days: 0',
      'journeys[0].steps[1].wait',
      'must wait longer than zero (program.yaml:12:28)',
    ],
    [
      'a step called exit',
      'id: pause',
      'id: exit',
      'journeys[0].steps[1].id',
      '"exit" is reserved for leaving the journey: choose another step id (program.yaml:12:15)',
    ],
    [
      'an unknown profile field in a condition',
      'eventSinceEntry: order.placed',
      'traits.country: { eq: US }, attrs.vip: { eq: true }',
      'journeys[0].steps[2].branch.if["attrs.vip"]',
      'is not a profile field: use traits.<name>, attributes.<lifetimeOrders|lifetimeValue|currency|firstOrderAt|lastOrderAt|registeredAt> or attributes.eventCounts.<event type> (program.yaml:13:66)',
    ],
    [
      'an unknown operator in a condition',
      'n: 2 }',
      'n: 2, where: { attributes.lifetimeOrders: { gt: 1 } } }',
      'milestones[0].where["attributes.lifetimeOrders"].gt',
      'unknown key (did you mean "gte"?) (program.yaml:4:108)',
    ],
    [
      'a template name with a space',
      'followup_b: {',
      '"follow up": {',
      'templates["follow up"]',
      'must be 1-64 letters, digits, "_" or "-", starting with a letter (such as "birthday_email") (program.yaml:18:3)',
    ],
  ])('reports %s with its path and place', (_name, from, to, path, message) => {
    const source = BASE.replace(from, to);
    expect(source).not.toBe(BASE);
    expect(problemsOf(() => parseProgram(source)).details).toEqual([{ path, message }]);
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', '# nothing yet\n'],
  ])('reports %s as an empty program', (_name, source) => {
    expect(problemsOf(() => parseProgram(source))).toEqual({
      message:
        'program.yaml: 1 problem in the program\n  the program is empty: expected a mapping with policies, milestones, journeys and templates (program.yaml:1:1)',
      details: [
        {
          path: '',
          message:
            'the program is empty: expected a mapping with policies, milestones, journeys and templates (program.yaml:1:1)',
        },
      ],
    });
  });

  it('reports a document that is not a mapping', () => {
    expect(problemsOf(() => parseProgram('- policies: {}')).details).toEqual([
      {
        path: '',
        message:
          'the program must be a mapping of policies, milestones, journeys and templates (got a list) (program.yaml:1:1)',
      },
    ]);
  });

  it('lists every problem, one per line in file order, after the file name', () => {
    const source = BASE.replace('n: 2 }', 'n: 0 }')
      .replace('holdoutPercent: 10', 'holdoutPercent: 120')
      .replace('America/New_York', 'Mars');
    expect(problemsOf(() => parseProgram(source, { fileName: 'program/program.yaml' })).message).toBe(
      [
        'program/program.yaml: 3 problems in the program',
        '  policies.timezone: must be an IANA time zone such as "America/New_York" or "UTC" (program/program.yaml:2:13)',
        '  milestones[0].n: must be a positive integer (program/program.yaml:4:67)',
        '  journeys[0].holdoutPercent: must be a number from 0 to 100 (program/program.yaml:9:21)',
      ].join('\n'),
    );
  });

  it('reports each of several unknown keys in one mapping at its own place', () => {
    const source = BASE.replace(
      'holdoutPercent: 10',
      'holdoutPercent: 10\n    priorty: 1\n    exitOnn: [order.placed]',
    );
    expect(problemsOf(() => parseProgram(source)).details).toEqual([
      { path: 'journeys[0].priorty', message: 'unknown key (did you mean "priority"?) (program.yaml:10:5)' },
      { path: 'journeys[0].exitOnn', message: 'unknown key (did you mean "exitOn"?) (program.yaml:11:5)' },
    ]);
  });

  it('reports a renamed milestone both as a duplicate and as a dangling trigger', () => {
    const source = BASE.replace('key: birthday,', 'key: second_order,');
    expect(problemsOf(() => parseProgram(source)).details).toEqual([
      {
        path: 'milestones[1].key',
        message: 'duplicate milestone key "second_order": already used by milestones[0] (program.yaml:5:12)',
      },
      {
        path: 'journeys[0].trigger',
        message: 'must name a milestone: no milestone has the key "birthday" (program.yaml:8:14)',
      },
    ]);
  });

  it('reports a YAML syntax error once, not for every token after it', () => {
    const source = `- policies:\n${BASE}`;
    expect(problemsOf(() => parseProgram(source)).details).toHaveLength(1);
  });
});

describe('validateProgram', () => {
  it('validates a program given as a value, with paths but no places', () => {
    expect(
      problemsOf(() =>
        validateProgram({ milestones: [{ key: 'x', kind: 'nth_event', event: 'order.placed', n: 0 }] }),
      ),
    ).toEqual({
      message: 'program: 1 problem in the program\n  milestones[0].n: must be a positive integer',
      details: [{ path: 'milestones[0].n', message: 'must be a positive integer' }],
    });
  });
});

describe('stringifyProgram', () => {
  it('writes YAML that parses back to the same program, with times quoted', () => {
    const program = parseProgram(
      readFileSync(resolve(__dirname, '../../../../program/program.yaml'), 'utf8'),
    );
    const yaml = stringifyProgram(program);
    expect(yaml).toContain('at: "09:00"');
    expect(parseProgram(yaml)).toEqual(program);
  });
});

describe('loadProgramFromDir', () => {
  it('loads program.yaml from the directory', () => {
    const program = loadProgramFromDir(resolve(__dirname, '../../../../program'));
    expect(program.journeys.map((j) => j.key)).toEqual(['birthday_sequence', 'second_order_thanks']);
  });

  it('names the full path of a missing program file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'program-'));
    expect(() => loadProgramFromDir(dir)).toThrow(`program file not found: ${join(dir, 'program.yaml')}`);
  });

  it('names the file in the places of its problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'program-'));
    writeFileSync(join(dir, 'program.yaml'), 'policies:\n  timezone: Nowhere\n');
    expect(problemsOf(() => loadProgramFromDir(dir)).details).toEqual([
      {
        path: 'policies.timezone',
        message: `must be an IANA time zone such as "America/New_York" or "UTC" (${join(dir, 'program.yaml')}:2:13)`,
      },
    ]);
  });
});

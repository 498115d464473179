import { parseProgram } from './parse-program';
import { canonicalJson, journeyVersion, programVersion } from './version';

const PROGRAM = `
policies: { timezone: Europe/Paris, frequencyCaps: [ { channel: any, max: 1, per: 1d } ] }
milestones:
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
journeys:
  - key: birthday_sequence
    trigger: birthday
    priority: 10
    steps:
      - { id: celebrate, send: { template: birthday_email } }
templates:
  birthday_email: { channel: email, subject: "Happy birthday!", text: "Enjoy" }
  birthday_sms: { channel: sms, body: "Happy birthday!" }
`;

/** The same program with every mapping's keys in another order. */
const REORDERED = `
templates:
  birthday_sms: { body: "Happy birthday!", channel: sms }
  birthday_email: { text: "Enjoy", subject: "Happy birthday!", channel: email }
journeys:
  - steps:
      - { send: { template: birthday_email }, id: celebrate }
    priority: 10
    trigger: birthday
    key: birthday_sequence
milestones:
  - { at: "09:00", date: birthday, kind: anniversary, key: birthday }
policies: { frequencyCaps: [ { per: 1d, max: 1, channel: any } ], timezone: Europe/Paris }
`;

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order and leaves out undefined members', () => {
    expect(canonicalJson({ b: [{ y: 1, x: 2 }, 3], a: undefined, c: null })).toBe(
      '{"b":[{"x":2,"y":1},3],"c":null}',
    );
  });
});

describe('programVersion', () => {
  it('is 12 hex digits', () => {
    expect(programVersion(parseProgram(PROGRAM))).toMatch(/^[0-9a-f]{12}$/);
  });

  it('is the same whatever the order of keys in the file', () => {
    expect(programVersion(parseProgram(REORDERED))).toBe(programVersion(parseProgram(PROGRAM)));
  });

  it('is the same when a default is written out', () => {
    const explicit = PROGRAM.replace('priority: 10', 'priority: 10\n    holdoutPercent: 0');
    expect(programVersion(parseProgram(explicit))).toBe(programVersion(parseProgram(PROGRAM)));
  });

  it.each([
    ['a template text', 'text: "Enjoy"', 'text: "Enjoy!"'],
    ['a policy', 'max: 1', 'max: 2'],
    ['a milestone time', 'at: "09:00"', 'at: "10:00"'],
    ['a journey priority', 'priority: 10', 'priority: 11'],
  ])('changes when %s changes', (_name, from, to) => {
    expect(programVersion(parseProgram(PROGRAM.replace(from, to)))).not.toBe(
      programVersion(parseProgram(PROGRAM)),
    );
  });
});

describe('journeyVersion', () => {
  const journeyOf = (source: string) => {
    const journey = parseProgram(source).journeys[0];
    if (!journey) throw new Error('no journey');
    return journey;
  };

  it('is the same whatever the order of keys in the file', () => {
    expect(journeyVersion(journeyOf(REORDERED))).toBe(journeyVersion(journeyOf(PROGRAM)));
  });

  it('changes when the journey changes', () => {
    expect(journeyVersion(journeyOf(PROGRAM.replace('priority: 10', 'priority: 9')))).not.toBe(
      journeyVersion(journeyOf(PROGRAM)),
    );
  });

  it('stays the same when only another part of the program changes', () => {
    expect(journeyVersion(journeyOf(PROGRAM.replace('max: 1', 'max: 3')))).toBe(
      journeyVersion(journeyOf(PROGRAM)),
    );
  });
});

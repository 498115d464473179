import { InMemoryBus } from '@mmp/bus';
import { FixedClock } from '@mmp/clock';
import { ProgramChangesTopic } from '@mmp/contracts';
import { parseProgram, programVersion, ProgramStore } from '@mmp/program';
import { ProgramSync } from './program-sync';

const FIRST = `
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
journeys:
  - key: thanks
    trigger: second_order
    priority: 5
    steps: [{ id: thank, send: { template: thanks_email } }]
templates:
  thanks_email: { channel: email, subject: 'Thanks', text: 'Thanks' }
`;
const SECOND = FIRST.replace('priority: 5', 'priority: 7');

describe('ProgramSync', () => {
  const clock = new FixedClock(new Date('2027-03-15T10:00:00Z'));
  let bus: InMemoryBus;

  beforeEach(() => {
    bus = new InMemoryBus();
  });

  afterEach(async () => {
    await bus.stop();
  });

  /** Two processes' program stores, as if each ran its own service, on one bus. */
  async function twoProcesses() {
    const stores = [new ProgramStore(parseProgram(FIRST)), new ProgramStore(parseProgram(FIRST))] as const;
    const syncs = stores.map((store) => new ProgramSync(store, bus, clock));
    for (const sync of syncs) sync.listen();
    await bus.start();
    return { stores, syncs };
  }

  it('switches every process to an announced program, the announcing one included', async () => {
    const { stores, syncs } = await twoProcesses();
    await syncs[0]?.announce(parseProgram(SECOND));
    await bus.whenIdle();
    const expected = programVersion(parseProgram(SECOND));
    expect(stores.map((store) => programVersion(store.current()))).toEqual([expected, expected]);
    expect(stores[1].current().journeys[0]?.priority).toBe(7);
    expect(bus.messagesOn(ProgramChangesTopic.name)).toEqual([
      expect.objectContaining({
        key: 'program',
        value: expect.objectContaining({
          schemaVersion: 1,
          version: expected,
          changedAt: '2027-03-15T10:00:00.000Z',
        }),
      }),
    ]);
  });

  it('keeps the program in force when an announced one is not valid here', async () => {
    const { stores } = await twoProcesses();
    const before = programVersion(stores[1].current());
    await bus.publish(ProgramChangesTopic, [
      {
        key: 'program',
        value: {
          schemaVersion: 1,
          version: 'aaaaaaaaaaaa',
          changedAt: '2027-03-15T10:00:00.000Z',
          program: { journeys: [{ key: 'broken' }] },
        },
      },
    ]);
    await bus.whenIdle();
    expect(programVersion(stores[1].current())).toBe(before);
  });

  it('ends on the latest of several announcements, in their order', async () => {
    const { stores, syncs } = await twoProcesses();
    await syncs[0]?.announce(parseProgram(SECOND));
    await syncs[0]?.announce(parseProgram(FIRST));
    await bus.whenIdle();
    expect(stores[1].current().journeys[0]?.priority).toBe(5);
  });
});

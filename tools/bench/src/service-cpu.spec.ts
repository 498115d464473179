import type { Profiler } from 'node:inspector';
import { attributeProfile } from './service-cpu';

function frame(id: number, url: string, functionName: string, children: number[] = []): Profiler.ProfileNode {
  return { id, callFrame: { url, functionName, scriptId: '0', lineNumber: 0, columnNumber: 0 }, children };
}

describe('attributeProfile', () => {
  it('bills a sample to the service nearest the top of its stack, else to the shared code nearest the top, leaving idle out', () => {
    const profile: Profiler.Profile = {
      nodes: [
        frame(1, '', '(root)', [2, 5, 7, 8, 9]),
        frame(2, 'file:///w/libs/shared/bus/src/consume-policy.ts', 'processChunk', [3]),
        frame(
          3,
          'file:///w/libs/milestones/service/src/controllers/customer-events.consumer.ts',
          'handle',
          [4],
        ),
        frame(4, 'file:///w/node_modules/zod/lib/types.js', 'parse'),
        frame(5, 'file:///w/node_modules/kafkajs/src/protocol/decoder.js', 'readBytes', [6]),
        frame(6, 'file:///w/libs/channels/sandbox/src/index.ts', 'send'),
        frame(7, 'file:///w/node_modules/pg-protocol/dist/parser.js', 'parse'),
        frame(8, '', '(idle)'),
        frame(9, 'file:///w/libs/shared/bus/src/record-codec.ts', 'decodeRecord', [10]),
        frame(10, '', 'parse'),
      ],
      startTime: 0,
      endTime: 7000,
      // Each sample lasts until the next one; the last one as long as the one before it.
      samples: [4, 3, 6, 7, 7, 8, 8, 10],
      timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
    };

    expect(Object.fromEntries(attributeProfile(profile))).toEqual({
      milestones: 2,
      delivery: 1,
      'shared: pg client': 2,
      'shared: bus': 1,
    });
  });
});

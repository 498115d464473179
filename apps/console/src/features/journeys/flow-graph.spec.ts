import type { JourneyStep } from '../../api/types';
import { fitViewport, heightOf, journeyFlowGraph, NODE_WIDTH } from './flow-graph';

const birthday: JourneyStep[] = [
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
];

describe('journeyFlowGraph', () => {
  it('draws steps in order, a branch with both arms, its exit and the completion', () => {
    const graph = journeyFlowGraph('birthday', birthday);
    expect(graph.nodes.map((node) => [node.id, node.kind, node.label])).toEqual([
      ['__entry', 'entry', 'on birthday'],
      ['celebrate', 'send', 'birthday_email'],
      ['pause', 'wait', 'wait 2 days'],
      ['check', 'branch', 'if {"eventSinceEntry":"order.placed"}'],
      ['__exit:check:then', 'exit', 'exit'],
      ['nudge', 'send', 'followup_a 50% / followup_b 50%'],
      ['__end', 'end', 'completed'],
    ]);
    expect(graph.edges.map((edge) => [edge.source, edge.target, edge.label])).toEqual([
      ['__entry', 'celebrate', undefined],
      ['celebrate', 'pause', undefined],
      ['pause', 'check', undefined],
      ['check', '__exit:check:then', 'yes'],
      ['check', 'nudge', 'no'],
      ['nudge', '__end', undefined],
    ]);
  });

  it('lays the flow out top to bottom without overlapping nodes', () => {
    const { nodes } = journeyFlowGraph('birthday', birthday);
    const y = (id: string) => nodes.find((node) => node.id === id)!.y;
    expect(y('__entry')).toBeLessThan(y('celebrate'));
    expect(y('celebrate')).toBeLessThan(y('pause'));
    expect(y('check')).toBeLessThan(y('nudge'));
    expect(y('nudge')).toBeLessThan(y('__end'));
    for (const a of nodes)
      for (const b of nodes) {
        if (a === b) continue;
        const apart =
          a.x + NODE_WIDTH <= b.x ||
          b.x + NODE_WIDTH <= a.x ||
          a.y + heightOf(a.kind) <= b.y ||
          b.y + heightOf(b.kind) <= a.y;
        expect({ a: a.id, b: b.id, apart }).toEqual({ a: a.id, b: b.id, apart: true });
      }
  });

  it('sends a branch arm to a later step, skipping those between', () => {
    const graph = journeyFlowGraph('second_order', [
      { id: 'gate', branch: { if: { 'traits.vip': { eq: true } }, then: 'thank', else: 'exit' } },
      { id: 'pause', wait: { until: '09:00' } },
      { id: 'thank', send: { template: 'second_order_email' } },
    ]);
    expect(graph.edges.map((edge) => [edge.source, edge.target, edge.label])).toEqual([
      ['__entry', 'gate', undefined],
      ['gate', 'thank', 'yes'],
      ['gate', '__exit:gate:else', 'no'],
      ['pause', 'thank', undefined],
      ['thank', '__end', undefined],
    ]);
    expect(graph.nodes.find((node) => node.id === 'pause')?.label).toBe('wait until 09:00');
  });
});

describe('fitViewport', () => {
  const inside = (width: number, height: number) => {
    const { nodes } = journeyFlowGraph('birthday', birthday);
    const view = fitViewport(nodes, width, height);
    const screen = nodes.map((node) => ({
      left: node.x * view.zoom + view.x,
      top: node.y * view.zoom + view.y,
      right: (node.x + NODE_WIDTH) * view.zoom + view.x,
      bottom: (node.y + heightOf(node.kind)) * view.zoom + view.y,
    }));
    return {
      zoom: view.zoom,
      fits: screen.every((r) => r.left >= 0 && r.top >= 0 && r.right <= width && r.bottom <= height),
      // Centred: as much room left as right, above as below.
      marginsX: [Math.min(...screen.map((r) => r.left)), width - Math.max(...screen.map((r) => r.right))],
      marginsY: [Math.min(...screen.map((r) => r.top)), height - Math.max(...screen.map((r) => r.bottom))],
    };
  };

  it('shrinks a flow taller than its box until it fits, centred', () => {
    const fitted = inside(1200, 640);
    expect(fitted.zoom).toBeLessThan(1);
    expect(fitted.fits).toBe(true);
    expect(fitted.marginsX[0]).toBeCloseTo(fitted.marginsX[1]!, 6);
    expect(fitted.marginsY[0]).toBeCloseTo(fitted.marginsY[1]!, 6);
  });

  it('never enlarges a flow past 1:1', () => {
    expect(inside(5000, 5000)).toMatchObject({ zoom: 1, fits: true });
  });
});

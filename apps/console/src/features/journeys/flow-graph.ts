import dagre from '@dagrejs/dagre';
import type { JourneyStep } from '../../api/types';

export type FlowNodeKind = 'entry' | 'send' | 'wait' | 'branch' | 'exit' | 'end';

export interface FlowNode {
  id: string;
  kind: FlowNodeKind;
  label: string;
  /** The step this node draws (absent for entry, exit and end). */
  stepId?: string;
  x: number;
  y: number;
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 120;
const ENTRY = '__entry';
const END = '__end';

function describe(step: JourneyStep): { kind: 'send' | 'wait' | 'branch'; label: string } {
  if ('send' in step) {
    const templates = step.send.variants?.map((v) => `${v.template} ${v.weight}%`) ?? [
      step.send.template ?? '',
    ];
    return { kind: 'send', label: templates.join(' / ') };
  }
  if ('wait' in step) {
    const wait = step.wait;
    const label = Object.entries(wait)
      .map(([unit, value]) => (unit === 'until' ? `until ${String(value)}` : `${String(value)} ${unit}`))
      .join(' ');
    return { kind: 'wait', label: `wait ${label}` };
  }
  return { kind: 'branch', label: `if ${JSON.stringify(step.branch.if)}` };
}

/**
 * The journey's steps as a flow (SPEC section 5): steps run in order; a branch goes to `then`
 * when its condition holds and to `else` (default: the next step) otherwise, where `exit` ends
 * the journey. Each branch arm that exits gets its own exit node so both arms stay visible.
 * Positions come from dagre's layered layout, top to bottom.
 */
export function journeyFlowGraph(trigger: string, steps: readonly JourneyStep[]): FlowGraph {
  const nodes: Omit<FlowNode, 'x' | 'y'>[] = [{ id: ENTRY, kind: 'entry', label: `on ${trigger}` }];
  const edges: FlowEdge[] = [];
  const next = (index: number): string => steps[index + 1]?.id ?? END;
  let endUsed = steps.length === 0;
  const target = (to: string | undefined, index: number, arm: string): string => {
    if (to === 'exit') {
      const id = `__exit:${steps[index]?.id ?? ''}:${arm}`;
      nodes.push({ id, kind: 'exit', label: 'exit' });
      return id;
    }
    const resolved = to ?? next(index);
    if (resolved === END) endUsed = true;
    return resolved;
  };
  if (steps[0]) edges.push({ id: `${ENTRY}->${steps[0].id}`, source: ENTRY, target: steps[0].id });
  else edges.push({ id: `${ENTRY}->${END}`, source: ENTRY, target: END });
  steps.forEach((step, index) => {
    const { kind, label } = describe(step);
    nodes.push({ id: step.id, kind, label, stepId: step.id });
    if ('branch' in step) {
      const yes = target(step.branch.then, index, 'then');
      const no = target(step.branch.else, index, 'else');
      edges.push({ id: `${step.id}->${yes}:then`, source: step.id, target: yes, label: 'yes' });
      edges.push({ id: `${step.id}->${no}:else`, source: step.id, target: no, label: 'no' });
    } else {
      const to = target(undefined, index, 'next');
      edges.push({ id: `${step.id}->${to}`, source: step.id, target: to });
    }
  });
  if (endUsed) nodes.push({ id: END, kind: 'end', label: 'completed' });

  const graph = new dagre.graphlib.Graph<object, { width: number; height: number; x: number; y: number }>();
  graph.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 50 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes)
    graph.setNode(node.id, { width: NODE_WIDTH, height: heightOf(node.kind), x: 0, y: 0 });
  for (const edge of edges) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  return {
    nodes: nodes.map((node) => {
      const placed = graph.node(node.id);
      // dagre gives centres; the diagram places nodes by their top-left corner.
      return { ...node, x: placed.x - NODE_WIDTH / 2, y: placed.y - heightOf(node.kind) / 2 };
    }),
    edges,
  };
}

export function heightOf(kind: FlowNodeKind): number {
  return kind === 'entry' || kind === 'exit' || kind === 'end' ? 44 : NODE_HEIGHT;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * The viewport that shows the whole flow in a box of the given size, centred, never enlarged
 * past 1:1, with `padding` (a share of the box) around it. Computed from the layout itself, so
 * the map is framed on first paint rather than after the nodes were measured.
 */
export function fitViewport(
  nodes: readonly FlowNode[],
  width: number,
  height: number,
  padding = 0.05,
): Viewport {
  if (nodes.length === 0) return { x: 0, y: 0, zoom: 1 };
  const left = Math.min(...nodes.map((node) => node.x));
  const top = Math.min(...nodes.map((node) => node.y));
  const right = Math.max(...nodes.map((node) => node.x + NODE_WIDTH));
  const bottom = Math.max(...nodes.map((node) => node.y + heightOf(node.kind)));
  const usable = 1 - 2 * padding;
  const zoom = Math.min(1, (width * usable) / (right - left), (height * usable) / (bottom - top));
  return {
    x: (width - (right - left) * zoom) / 2 - left * zoom,
    y: (height - (bottom - top) * zoom) / 2 - top * zoom,
    zoom,
  };
}

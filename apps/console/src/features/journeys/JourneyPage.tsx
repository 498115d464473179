import { Background, Controls, ReactFlow, type Edge } from '@xyflow/react';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { api, withQuery } from '../../api/client';
import type { JourneyCounts, JourneyDefinition, MessageSummary } from '../../api/types';
import { href, navigate } from '../../app/route';
import { Status } from '../../app/Status';
import { useApi } from '../../app/use-api';
import { MessageTable } from '../messages/MessageTable';
import { fitViewport, heightOf, journeyFlowGraph, NODE_WIDTH } from './flow-graph';
import { StepNode, type StepNodeType } from './StepNode';

const NODE_TYPES = { step: StepNode };
/** The map's height in CSS pixels (its width is the page's). */
const FLOW_HEIGHT = 640;
/** Counts refresh this often while the map is open: "live" without a socket per service. */
const REFRESH_MS = 5000;

async function loadJourney(journeyKey: string) {
  const key = encodeURIComponent(journeyKey);
  const [journey, counts, summary] = await Promise.all([
    api<JourneyDefinition>(`/v1/journeys/${key}`),
    api<JourneyCounts>(`/v1/journeys/${key}/steps`),
    api<MessageSummary>(withQuery('/v1/messages/summary', { journey: journeyKey })),
  ]);
  return { journey, counts, summary };
}

export function JourneyPage({ journeyKey, step }: { journeyKey: string; step: string | null }) {
  const loaded = useApi(() => loadJourney(journeyKey), [journeyKey]);
  const { reload } = loaded;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const box = useRef<HTMLDivElement>(null);
  const [boxWidth, setBoxWidth] = useState(0);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    setBoxWidth(element.clientWidth);
    const observer = new ResizeObserver(() => setBoxWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, [loaded.data === undefined]);
  const journey = loaded.data?.journey;
  const graph = useMemo(
    () => (journey ? journeyFlowGraph(journey.trigger, journey.steps) : undefined),
    [journey],
  );
  if (!loaded.data || !graph) return <Status loaded={loaded} />;
  const { counts, summary } = loaded.data;
  const nodes: StepNodeType[] = graph.nodes.map((node) => ({
    id: node.id,
    type: 'step',
    position: { x: node.x, y: node.y },
    // Sizes known up front, so fitView frames the whole flow before the nodes are measured.
    width: NODE_WIDTH,
    height: heightOf(node.kind),
    draggable: false,
    data: {
      kind: node.kind,
      label: node.label,
      stepId: node.stepId,
      counts: counts.steps.find((s) => s.stepId === node.stepId),
      outcomes: summary.steps.find((s) => s.stepId === node.stepId),
      selected: node.stepId !== undefined && node.stepId === step,
    },
  }));
  const edges: Edge[] = graph.edges.map((edge) => ({ ...edge, type: 'smoothstep' }));
  const entered = counts.entered.treatment + counts.entered.holdout;
  return (
    <section>
      <p>
        <a href={href('journeys')}>Journeys</a> /
      </p>
      <h1>{journeyKey}</h1>
      <p className="summary">
        entered <strong data-figure="entered">{entered}</strong> (treatment {counts.entered.treatment},
        holdout {counts.entered.holdout}) · in flight <strong>{counts.inFlight}</strong> · converted treatment{' '}
        {counts.converted.treatment}, holdout {counts.converted.holdout} · completed{' '}
        {counts.completed.treatment} · version {loaded.data.journey.version.slice(0, 8)} ·{' '}
        <a href={href('analytics', journeyKey)}>analytics</a>
      </p>
      <div className="flow" ref={box} style={{ height: FLOW_HEIGHT }} aria-label={`Flow of ${journeyKey}`}>
        {boxWidth > 0 && (
          <ReactFlow
            // A new map per journey (and box width), framed from the layout on first paint.
            key={`${journeyKey}:${boxWidth}`}
            defaultViewport={fitViewport(graph.nodes, boxWidth, FLOW_HEIGHT)}
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            minZoom={0.2}
            nodesConnectable={false}
            onNodeClick={(_event, node) => {
              if (node.data.stepId)
                navigate(`${href('journeys', journeyKey)}?step=${encodeURIComponent(node.data.stepId)}`);
            }}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        )}
      </div>
      {step && (
        <>
          <h2>Messages of step {step}</h2>
          <MessageTable filters={{ journey: journeyKey, step }} />
        </>
      )}
    </section>
  );
}

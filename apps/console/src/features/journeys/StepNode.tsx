import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { MessageStatus, StepCounts, StepOutcomes } from '../../api/types';
import type { FlowNodeKind } from './flow-graph';

export type StepNodeData = {
  kind: FlowNodeKind;
  label: string;
  stepId?: string;
  counts?: StepCounts;
  outcomes?: StepOutcomes;
  selected: boolean;
};

export type StepNodeType = Node<StepNodeData, 'step'>;

function reasons(byReason: Record<string, number> | undefined): string {
  return Object.entries(byReason ?? {})
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
}

/** Messages now at any of these statuses (each counts once, at its current status). */
function reached(outcomes: StepOutcomes, ...statuses: MessageStatus[]): number {
  return statuses.reduce((sum, status) => sum + (outcomes.statuses[status] ?? 0), 0);
}

/** A step with its live counts: journeys' own (entered, waiting, exits) and delivery's outcomes. */
export function StepNode({ data }: NodeProps<StepNodeType>) {
  const { counts, outcomes } = data;
  const suppressed = { ...(counts?.suppressed ?? {}), ...(outcomes?.suppressed ?? {}) };
  return (
    <div className={`flow-node ${data.kind}${data.selected ? ' selected' : ''}`} data-step={data.stepId}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="flow-title">
        {data.stepId && <span className="tag">{data.kind}</span>} {data.stepId ?? data.label}
      </div>
      {data.stepId && <div className="flow-label">{data.label}</div>}
      {counts && (
        <dl className="flow-counts">
          <div>
            <dt>entered</dt>
            <dd data-count="entered">{counts.entered.treatment + counts.entered.holdout}</dd>
          </div>
          <div>
            <dt>waiting</dt>
            <dd data-count="waitingNow">{counts.waitingNow}</dd>
          </div>
          {counts.kind === 'send' && (
            <div>
              <dt>sent</dt>
              <dd data-count="requested">{counts.requested}</dd>
            </div>
          )}
          <div>
            <dt>converted</dt>
            <dd data-count="converted">{counts.converted.treatment}</dd>
          </div>
        </dl>
      )}
      {outcomes && (
        <div className="flow-reasons">
          delivered {reached(outcomes, 'delivered', 'opened', 'clicked')}, opened{' '}
          {reached(outcomes, 'opened', 'clicked')}, clicked {reached(outcomes, 'clicked')}
        </div>
      )}
      {reasons(suppressed) && <div className="flow-reasons">suppressed: {reasons(suppressed)}</div>}
      {reasons(counts?.exited) && <div className="flow-reasons">exited: {reasons(counts?.exited)}</div>}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

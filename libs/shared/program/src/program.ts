import { z } from 'zod';
import { describeValue, suggestion } from './issues';
import { JourneyDefinition } from './journeys';
import { MilestoneDefinition } from './milestones';
import { Policies } from './policies';
import { EXIT, TemplateName } from './primitives';
import { SourceDefinition } from './sources';
import { TemplateDefinition, TemplateSource } from './templates';

/**
 * A program: the policies, milestones, journeys and templates a retailer runs (SPEC section 5).
 * The schema checks each value, then (when every value is well formed) the references between
 * them: unique keys, triggers that name milestones, sends that name templates, branch targets.
 */

/** A broken reference between parts of a program, at a path into it. */
export interface ProgramReferenceProblem {
  path: PropertyKey[];
  message: string;
}

function duplicates<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  what: string,
  where: (index: number) => PropertyKey[],
  list: string,
): ProgramReferenceProblem[] {
  const seen = new Map<string, number>();
  const problems: ProgramReferenceProblem[] = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      problems.push({
        path: where(index),
        message: `duplicate ${what} "${key}": already used by ${list}[${first}]`,
      });
  });
  return problems;
}

function journeyReferences(
  journey: JourneyDefinition,
  index: number,
  milestoneKeys: ReadonlySet<string>,
  templateNames: ReadonlySet<string>,
): ProgramReferenceProblem[] {
  const at = (...path: PropertyKey[]): PropertyKey[] => ['journeys', index, ...path];
  const problems: ProgramReferenceProblem[] = [];
  if (!milestoneKeys.has(journey.trigger)) {
    problems.push({
      path: at('trigger'),
      message: `must name a milestone: no milestone has the key "${journey.trigger}"${suggestion(journey.trigger, milestoneKeys)}`,
    });
  }
  problems.push(
    ...duplicates(
      journey.steps,
      (step) => step.id,
      'step id',
      (s) => at('steps', s, 'id'),
      'steps',
    ),
  );
  const position = new Map<string, number>();
  journey.steps.forEach((step, s) => {
    if (!position.has(step.id)) position.set(step.id, s);
  });
  const template = (name: string, path: PropertyKey[]): void => {
    if (!templateNames.has(name))
      problems.push({
        path,
        message: `must name a template: no template is called "${name}"${suggestion(name, templateNames)}`,
      });
  };
  const target = (name: string | undefined, s: number, path: PropertyKey[]): void => {
    if (name === undefined || name === EXIT) return;
    const to = position.get(name);
    const rule = `must be "${EXIT}" or the id of a later step`;
    if (to === undefined)
      problems.push({
        path,
        message: `${rule}: no step has the id "${name}"${suggestion(name, position.keys())}`,
      });
    else if (to <= s)
      problems.push({ path, message: `${rule}: "${name}" is not after this step (loops are not allowed)` });
  };
  journey.steps.forEach((step, s) => {
    if ('send' in step) {
      if ('template' in step.send) template(step.send.template, at('steps', s, 'send', 'template'));
      else
        step.send.variants.forEach((variant, v) =>
          template(variant.template, at('steps', s, 'send', 'variants', v, 'template')),
        );
    } else if ('branch' in step) {
      target(step.branch.then, s, at('steps', s, 'branch', 'then'));
      target(step.branch.else, s, at('steps', s, 'branch', 'else'));
    }
  });
  return problems;
}

interface ProgramShape {
  sources?: readonly { topic: string }[];
  milestones: readonly { key: string }[];
  journeys: readonly JourneyDefinition[];
  templates: Record<string, unknown>;
}

/** Problems in the references between a program's parts (empty when all is consistent). */
export function programReferenceProblems(program: ProgramShape): ProgramReferenceProblem[] {
  const milestoneKeys = new Set(program.milestones.map((m) => m.key));
  const templateNames = new Set(Object.keys(program.templates));
  return [
    ...duplicates(
      program.sources ?? [],
      (source) => source.topic,
      'source topic',
      (i) => ['sources', i, 'topic'],
      'sources',
    ),
    ...duplicates(
      program.milestones,
      (m) => m.key,
      'milestone key',
      (i) => ['milestones', i, 'key'],
      'milestones',
    ),
    ...duplicates(
      program.journeys,
      (j) => j.key,
      'journey key',
      (i) => ['journeys', i, 'key'],
      'journeys',
    ),
    ...program.journeys.flatMap((journey, i) => journeyReferences(journey, i, milestoneKeys, templateNames)),
  ];
}

export const Program = z
  .strictObject(
    {
      policies: Policies.prefault({}),
      milestones: z.array(MilestoneDefinition).default([]),
      journeys: z.array(JourneyDefinition).default([]),
      templates: z.record(TemplateName, TemplateDefinition).default({}),
      /** Handlebars partials every template may use (`{{> footer}}`). */
      partials: z.record(TemplateName, TemplateSource).optional(),
      /** Email layouts: an email template's `layout` wraps its html in one (`{{{body}}}` marks the spot). */
      layouts: z.record(TemplateName, TemplateSource).optional(),
      /** A retailer's own Kafka topics, mapped to our events (README, "Kafka sources"). */
      sources: z.array(SourceDefinition).optional(),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `the program must be a mapping of policies, milestones, journeys and templates (got ${describeValue(issue.input)})`
          : undefined,
    },
  )
  .superRefine((program, ctx) => {
    for (const problem of programReferenceProblems(program))
      ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });
export type Program = z.infer<typeof Program>;

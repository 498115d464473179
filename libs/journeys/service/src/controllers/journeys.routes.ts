import { apiRoute } from '@mmp/server';
import { z } from 'zod';

const GroupCounts = z.object({ treatment: z.number().int(), holdout: z.number().int() });
const ReasonCounts = z.record(z.string(), z.number().int());

export const JourneySummary = z
  .object({
    key: z.string(),
    version: z.string(),
    trigger: z.string(),
    priority: z.number(),
    holdoutPercent: z.number(),
    goal: z.object({ event: z.string(), withinDays: z.number() }).nullable(),
    exitOn: z.array(z.string()),
    steps: z.array(z.record(z.string(), z.unknown())).describe('The steps exactly as in the program'),
    inFlight: z.number().int(),
  })
  .meta({ id: 'JourneySummary' });

export const JourneyStepCountsSchema = z
  .object({
    journeyKey: z.string(),
    entered: GroupCounts,
    inFlight: z.number().int(),
    converted: GroupCounts,
    completed: GroupCounts,
    exited: ReasonCounts,
    steps: z.array(
      z.object({
        stepId: z.string(),
        kind: z.enum(['send', 'wait', 'branch']),
        entered: GroupCounts,
        waitingNow: z.number().int(),
        requested: z.number().int(),
        suppressed: ReasonCounts,
        exited: ReasonCounts,
        converted: GroupCounts,
      }),
    ),
  })
  .meta({ id: 'JourneyStepCounts' });

const JourneyParams = z.object({ journeyKey: z.string().min(1).max(128) });

export const listJourneysRoute = apiRoute({
  method: 'get',
  path: '/v1/journeys',
  tag: 'journeys',
  summary: 'The journeys of the program in force, in program order',
  responses: { 200: { description: 'The journeys', schema: z.object({ items: z.array(JourneySummary) }) } },
});

export const getJourneyRoute = apiRoute({
  method: 'get',
  path: '/v1/journeys/{journeyKey}',
  tag: 'journeys',
  summary: 'One journey of the program in force, with its stored versions',
  params: JourneyParams,
  responses: {
    200: {
      description: 'The journey',
      schema: JourneySummary.extend({
        versions: z.array(
          z.object({ version: z.string(), createdAt: z.string(), inFlight: z.number().int() }),
        ),
      }),
    },
    404: { description: 'Not a journey of the program in force' },
  },
});

export const journeyStepsRoute = apiRoute({
  method: 'get',
  path: '/v1/journeys/{journeyKey}/steps',
  tag: 'journeys',
  summary:
    'Live counts per step: entered, waiting now, requested, suppressed and exited by reason, converted',
  description:
    "Message outcomes after the request (sent, delivered, suppressed for consent...) are delivery's: GET /v1/messages/summary.",
  params: JourneyParams,
  responses: {
    200: { description: 'The counts', schema: JourneyStepCountsSchema },
    404: { description: 'Not a journey of the program in force' },
  },
});

export const CustomerJourneySchema = z
  .object({
    journeyKey: z.string(),
    journeyVersion: z.string(),
    group: z.enum(['treatment', 'holdout']),
    status: z.enum(['active', 'waiting', 'completed', 'exited']),
    currentStep: z.string().nullable(),
    waitingUntil: z.string().nullable(),
    waitingFor: z.enum(['wait', 'quiet_hours']).nullable(),
    enteredAt: z.string(),
    exitReason: z.string().nullable(),
    goal: z
      .object({
        event: z.string(),
        windowEndsAt: z.string(),
        reachedAt: z.string().nullable(),
        outcome: z.enum(['reached', 'pending', 'missed']),
      })
      .nullable(),
  })
  .meta({ id: 'CustomerJourney' });

export const customerJourneysRoute = apiRoute({
  method: 'get',
  path: '/v1/customers/{customerId}/journeys',
  tag: 'customers',
  summary: 'Journeys the customer entered, where each stands, why it ended, and its goal; newest first',
  params: z.object({ customerId: z.string().min(1) }),
  responses: { 200: { description: 'The journeys', schema: z.array(CustomerJourneySchema) } },
});

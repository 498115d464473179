import { apiRoute } from '@mmp/server';
import { z } from 'zod';

const ProgramBody = z
  .record(z.string(), z.unknown())
  .describe('The program (SPEC section 5) as YAML text or JSON');
const PROGRAM_TYPES = ['application/yaml', 'text/yaml', 'application/json'] as const;

const ProblemSchema = z.object({
  path: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});

export const ProgramValidation = z
  .object({
    valid: z.boolean(),
    errors: z.array(ProblemSchema),
    currentVersion: z.string(),
    version: z.string().optional(),
    diff: z
      .string()
      .optional()
      .describe('Unified diff of the program in force and the candidate, as canonical YAML'),
    journeys: z
      .array(
        z.object({
          key: z.string(),
          change: z.enum(['added', 'removed', 'changed', 'unchanged']),
          currentVersion: z.string().nullable(),
          version: z.string().nullable(),
          inFlightStayingOnCurrent: z.number().int(),
        }),
      )
      .optional(),
  })
  .meta({ id: 'ProgramValidation' });

export const getProgramRoute = apiRoute({
  method: 'get',
  path: '/v1/program',
  tag: 'program',
  summary:
    'The program in force: YAML when asked for (Accept: application/yaml), else JSON; ETag is its version',
  responses: { 200: { description: 'The program', schema: ProgramBody } },
});

export const putProgramRoute = apiRoute({
  method: 'put',
  path: '/v1/program',
  tag: 'program',
  summary: 'Replaces the program; in-flight customers finish on the version they entered',
  body: ProgramBody,
  bodyContentTypes: PROGRAM_TYPES,
  responses: {
    200: {
      description: 'In force',
      schema: z.object({
        version: z.string(),
        journeys: z.array(z.object({ key: z.string(), version: z.string() })),
      }),
    },
  },
});

export const validateProgramRoute = apiRoute({
  method: 'post',
  path: '/v1/program/validate',
  tag: 'program',
  summary: 'Validates a candidate program and shows what applying it would change; changes nothing',
  body: ProgramBody,
  bodyContentTypes: PROGRAM_TYPES,
  responses: {
    200: {
      description: 'Errors with line and column, or the diff and the journeys affected',
      schema: ProgramValidation,
    },
  },
});

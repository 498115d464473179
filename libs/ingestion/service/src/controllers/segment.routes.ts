import { apiRoute } from '@mmp/server';
import { z } from 'zod';

/** What Segment's own API answers (its clients look for a 2xx only), with what became of each call. */
export const SegmentAnswer = z
  .object({
    success: z.literal(true),
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.array(
      z.object({
        index: z.number().int(),
        messageId: z.string().nullable(),
        errors: z.array(z.object({ path: z.string(), message: z.string() })),
      }),
    ),
  })
  .meta({ id: 'SegmentAnswer' });

/** A Segment call as its HTTP Tracking API takes it; `mapSegmentCall` checks it field by field. */
const SegmentCall = z
  .record(z.string(), z.unknown())
  .describe(
    'userId or anonymousId, messageId, timestamp, traits / event and properties, context (Segment spec)',
  )
  .meta({ id: 'SegmentCall' });

const AUTH =
  'HTTP Basic with one of SEGMENT_WRITE_KEYS as the user name (401 otherwise), not the bearer API key.';

export const segmentBatchRoute = apiRoute({
  method: 'post',
  path: '/v1/segment/batch',
  tag: 'segment',
  summary: 'Segment batch: up to 500 KB of identify, track, alias, page, screen and group calls',
  description: `${AUTH} Each call is mapped to our event and ingested as by POST /v1/events; a call that cannot be mapped is listed in \`rejected\` naming its field, and its neighbours are kept.`,
  body: z.object({ batch: z.array(SegmentCall) }).meta({ id: 'SegmentBatch' }),
  responses: {
    200: { description: 'What became of each call', schema: SegmentAnswer },
    413: { description: 'The batch is over 500 KB' },
  },
});

export const segmentCallRoute = apiRoute({
  method: 'post',
  path: '/v1/segment/{call}',
  tag: 'segment',
  summary: 'One Segment call: identify, track, alias, page, screen or group (at most 32 KB)',
  description: `${AUTH} The call is mapped to our event and ingested as by POST /v1/events; one that cannot be mapped is 400 naming its field.`,
  params: z.object({ call: z.enum(['identify', 'track', 'alias', 'page', 'screen', 'group']) }),
  body: SegmentCall,
  responses: {
    200: { description: 'Ingested (or a duplicate of an earlier messageId)', schema: SegmentAnswer },
    404: { description: 'Not a Segment call type' },
    413: { description: 'The call is over 32 KB' },
  },
});

import { Channel, MessageStatus } from '@mmp/contracts';
import { apiRoute, pageOf, PageQuery } from '@mmp/server';
import { z } from 'zod';
import { PreviewTemplateCommand } from '../usecases/preview-template/preview-template.usecase';

export const MessageViewSchema = z
  .object({
    messageId: z.string(),
    journeyKey: z.string(),
    stepId: z.string(),
    milestoneKey: z.string(),
    channel: Channel,
    template: z.string(),
    variant: z.string().nullable(),
    to: z.string().nullable(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    status: MessageStatus,
    reason: z.string().nullable(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .meta({ id: 'MessageView' });

const LoggedMessage = MessageViewSchema.extend({ customerId: z.string() }).meta({ id: 'LoggedMessage' });
const Counts = z.record(z.string(), z.number().int());
const IsoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

export const messageLogRoute = apiRoute({
  method: 'get',
  path: '/v1/messages',
  tag: 'messages',
  summary:
    'The message log, newest first, filterable by status, channel, journey, step, template, customer and date',
  query: PageQuery.extend({
    status: MessageStatus.optional(),
    channel: Channel.optional(),
    journey: z.string().min(1).max(128).optional(),
    step: z.string().min(1).max(128).optional(),
    template: z.string().min(1).max(128).optional(),
    customerId: z.string().min(1).max(128).optional(),
    from: IsoTime.optional().describe('createdAt at or after'),
    to: IsoTime.optional().describe('createdAt before'),
  }),
  responses: { 200: { description: 'A page of messages', schema: pageOf(LoggedMessage) } },
});

export const messageRoute = apiRoute({
  method: 'get',
  path: '/v1/messages/{messageId}',
  tag: 'messages',
  summary: 'One message with its rendered content and every status it went through, oldest first',
  params: z.object({ messageId: z.string().min(1) }),
  responses: {
    200: {
      description: 'The message',
      schema: LoggedMessage.extend({
        statusHistory: z.array(
          z.object({ status: z.string(), reason: z.string().nullable(), occurredAt: z.string() }),
        ),
      }),
    },
    404: { description: 'Unknown message' },
  },
});

export const messageSummaryRoute = apiRoute({
  method: 'get',
  path: '/v1/messages/summary',
  tag: 'messages',
  summary: "A journey's messages per step and variant by current status, suppressions and failures by reason",
  query: z.object({ journey: z.string().min(1).max(128) }),
  responses: {
    200: {
      description: 'Outcomes per step',
      schema: z.object({
        journeyKey: z.string(),
        steps: z.array(
          z.object({
            stepId: z.string(),
            messages: z.number().int(),
            statuses: Counts,
            suppressed: Counts,
            failed: Counts,
            variants: z.array(
              z.object({ variant: z.string().nullable(), messages: z.number().int(), statuses: Counts }),
            ),
          }),
        ),
      }),
    },
  },
});

export const customerMessagesRoute = apiRoute({
  method: 'get',
  path: '/v1/customers/{customerId}/messages',
  tag: 'customers',
  summary: 'Every message decision for the customer, newest first, suppressed ones included',
  params: z.object({ customerId: z.string().min(1) }),
  responses: { 200: { description: 'The messages', schema: z.array(MessageViewSchema) } },
});

export const listTemplatesRoute = apiRoute({
  method: 'get',
  path: '/v1/templates',
  tag: 'templates',
  summary: 'The templates of the program in force, in program order',
  responses: {
    200: {
      description: 'The templates',
      schema: z.object({ items: z.array(z.object({ name: z.string(), channel: Channel })) }),
    },
  },
});

export const previewTemplateRoute = apiRoute({
  method: 'post',
  path: '/v1/templates/{name}/preview',
  tag: 'templates',
  summary: 'The rendered template for a customer or a sample profile; with sendTo, a test send',
  params: z.object({ name: z.string().min(1) }),
  body: PreviewTemplateCommand,
  responses: {
    200: {
      description: 'The rendered message',
      schema: z.object({
        template: z.string(),
        channel: z.string(),
        subject: z.string().nullable(),
        html: z.string().nullable(),
        text: z.string().nullable(),
        body: z.string().nullable(),
        title: z.string().nullable(),
        testSend: z
          .object({ to: z.string(), provider: z.string(), providerMessageId: z.string() })
          .optional(),
      }),
    },
    404: { description: 'Unknown template, or unknown customer' },
  },
});

import { AllTopics } from '@mmp/contracts';
import jsonata from 'jsonata';
import { z } from 'zod';
import { errorText } from './issues';

/**
 * `sources:` of a program: a retailer's own Kafka topics, each read in its own shape (JSON, or
 * Avro through a Confluent Schema Registry) and mapped to our event's fields by JSONata
 * expressions (https://jsonata.org), evaluated against each record. Ingestion consumes every
 * source like `retail.events.v1` (README, "Kafka sources").
 */

/** Where a JSONata parse error sits: the character (from 1) in the expression. */
function jsonataProblem(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (error) {
    const position =
      typeof error === 'object' && error !== null && 'position' in error && typeof error.position === 'number'
        ? ` at character ${error.position}`
        : '';
    return `is not a valid JSONata expression: ${errorText(error)}${position}`;
  }
}

/** One JSONata expression, compiled when the program loads so a typo stops the load, not the consumer. */
export const MappingExpression = z
  .string({ error: 'must be a JSONata expression (text), such as "order.id"' })
  .min(1, 'must be a JSONata expression, such as "order.id"')
  .superRefine((expression, ctx) => {
    const problem = jsonataProblem(expression);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Our event's fields (SPEC section 4), each an expression over the record. Without `eventId` the
 * event id is `<topic>:<partition>:<offset>`, so a replayed record is a duplicate.
 */
export const SourceMapping = z
  .strictObject({
    eventId: MappingExpression.optional(),
    type: MappingExpression,
    occurredAt: MappingExpression,
    customerId: MappingExpression.optional(),
    anonymousId: MappingExpression.optional(),
    traits: MappingExpression.optional(),
    properties: MappingExpression.optional(),
  })
  .superRefine((mapping, ctx) => {
    if (mapping.customerId === undefined && mapping.anonymousId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['customerId'],
        message: 'customerId or anonymousId must be mapped',
      });
  });
export type SourceMapping = z.infer<typeof SourceMapping>;

/** The platform's own topics are read by their own consumers, never as a source. */
const PLATFORM_TOPICS = new Set(AllTopics.flatMap((topic) => [topic.name, topic.dlq]));

export const SourceTopicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name: letters, digits, ".", "_" and "-"')
  .refine((name) => !PLATFORM_TOPICS.has(name), 'must be a topic of your own, not one of the platform’s');

export const SourceDefinition = z
  .strictObject({
    topic: SourceTopicName,
    /** `json`: each record's value is a JSON document; `avro`: Confluent's wire format, schemas from `schemaRegistry`. */
    format: z.enum(['json', 'avro']).default('json'),
    /** The Confluent Schema Registry's base URL, for `avro` sources. */
    schemaRegistry: z.url({ error: 'must be a URL such as http://schema-registry:8081' }).optional(),
    mapping: SourceMapping,
  })
  .superRefine((source, ctx) => {
    if (source.format === 'avro' && source.schemaRegistry === undefined)
      ctx.addIssue({ code: 'custom', path: ['schemaRegistry'], message: 'is required for an avro source' });
    if (source.format === 'json' && source.schemaRegistry !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['schemaRegistry'],
        message: 'is only for avro sources: a json source has no schema registry',
      });
  });
export type SourceDefinition = z.infer<typeof SourceDefinition>;

/** Where a source's records that cannot be ingested go, with the reason in `dlq-reason`. */
export const sourceDeadLetterTopic = (topic: string): string => `${topic}.dlq`;

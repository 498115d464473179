import type { IncomingMessage, MessageBus } from '@mmp/bus';
import { defineTopic, type RetailEventV1, type Topic } from '@mmp/contracts';
import { SourceMapper } from '@mmp/ingestion-domain';
import { sourceDeadLetterTopic, type ProgramStore, type SourceDefinition } from '@mmp/program';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { deadLetterOf, INGESTION_GROUP, refusedLetters, sendDeadLetters } from '../controllers/dead-letter';
import type { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';
import { AvroDecoder, type DecodedSourceValue } from './avro-decoder';

/** A record of a source as it was read: parsed JSON, or the bytes of an Avro one. */
type SourceValue = unknown;

function sourceTopic(source: SourceDefinition): Topic<SourceValue> {
  const avro = source.format === 'avro';
  return defineTopic<SourceValue>({
    name: source.topic,
    dlq: sourceDeadLetterTopic(source.topic),
    schemaVersion: 1,
    // Any JSON is a record to map; what it must hold is the mapping's business.
    schema: avro ? z.instanceof(Buffer) : z.unknown(),
    encoding: avro ? 'bytes' : 'json',
    description: `A retailer's own topic, read as a program source (${source.format}).`,
  });
}

/**
 * Kafka entry for every `sources:` topic of the program: each record is decoded (JSON, or Avro
 * through the source's schema registry), mapped by the source's JSONata mapping (SourceMapper)
 * and ingested through the one ingest path, in the partition's batches. A record that does not
 * decode or map, or whose event is refused, goes to `<topic>.dlq` with the reason, and the
 * partition moves on. Topics and formats are subscribed at start-up; a mapping replaced over
 * PUT /v1/program applies to the next batch.
 */
export class SourcesConsumer {
  private readonly logger = new Logger('SourcesConsumer');
  private readonly mappers = new Map<string, SourceMapper>();
  private readonly decoders = new Map<string, AvroDecoder>();

  constructor(
    private readonly ingest: IngestEventsUsecase,
    private readonly program: ProgramStore,
    private readonly bus: MessageBus,
  ) {}

  /** Subscribes every source of the program in force; called before the bus starts (see IngestionModule). */
  listen(): void {
    for (const source of this.program.current().sources ?? []) {
      const topic = sourceTopic(source);
      this.bus.subscribe({
        topic,
        groupId: INGESTION_GROUP,
        handler: async (batch) => this.handle(this.definitionOf(source), batch),
      });
      this.logger.log(
        `consuming program source ${source.topic} (${source.format}), dead letters to ${topic.dlq}`,
      );
    }
  }

  async handle(source: SourceDefinition, batch: readonly IncomingMessage<SourceValue>[]): Promise<void> {
    const mapper = this.mapperOf(source);
    const dlq = sourceDeadLetterTopic(source.topic);
    const originalOf = (message: IncomingMessage<SourceValue>): string | Buffer =>
      Buffer.isBuffer(message.value) ? message.value : JSON.stringify(message.value);
    const mapped: { message: IncomingMessage<SourceValue>; event: RetailEventV1 }[] = [];
    const letters: ReturnType<typeof deadLetterOf>[] = [];
    for (const message of batch) {
      const decoded = Buffer.isBuffer(message.value)
        ? await this.decodeAvro(source, message.value)
        : { ok: true as const, value: message.value };
      const result = decoded.ok ? await mapper.map(decoded.value, message) : decoded;
      if (result.ok) mapped.push({ message, event: result.event });
      else letters.push(deadLetterOf(message, originalOf(message), result.reason));
    }
    if (mapped.length > 0) {
      const outcome = await this.ingest.execute(mapped.map((record) => record.event));
      letters.push(...refusedLetters(mapped, outcome.rejected, ({ message }) => originalOf(message)));
    }
    await sendDeadLetters(this.bus, this.logger, dlq, letters);
  }

  /** The source as the program in force defines it now; the start-up one if it was removed since. */
  private definitionOf(subscribed: SourceDefinition): SourceDefinition {
    const current = this.program.current().sources?.find((source) => source.topic === subscribed.topic);
    return current && current.format === subscribed.format ? current : subscribed;
  }

  private mapperOf(source: SourceDefinition): SourceMapper {
    const known = this.mappers.get(source.topic);
    if (known && known.mapping === source.mapping) return known;
    const mapper = new SourceMapper(source.mapping);
    this.mappers.set(source.topic, mapper);
    return mapper;
  }

  private async decodeAvro(source: SourceDefinition, bytes: Buffer): Promise<DecodedSourceValue> {
    const host = source.schemaRegistry ?? '';
    let decoder = this.decoders.get(host);
    if (!decoder) {
      decoder = new AvroDecoder(host);
      this.decoders.set(host, decoder);
    }
    return decoder.decode(bytes);
  }
}

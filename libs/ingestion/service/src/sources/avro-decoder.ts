import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { AppError } from '@mmp/errors';

export type DecodedSourceValue = { ok: true; value: unknown } | { ok: false; reason: string };

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Whether the registry answered that the schema does not exist: the record can never be read,
 * so it is dead-lettered. Any other failure to reach it (the client reports a refused connection
 * as status 400, a registry restarting as 5xx) is the registry's, and retried until it answers.
 */
function isMissingSchema(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'ResponseError' || !('status' in error)) return false;
  return error.status === 404 || error.status === 422;
}

/**
 * Reads Confluent's Avro wire format (magic byte 0, a 4-byte schema id, the Avro body) through
 * the schema registry at `host` (`GET /schemas/ids/{id}`, cached per id by the client).
 */
export class AvroDecoder {
  private readonly registry: SchemaRegistry;

  constructor(host: string) {
    this.registry = new SchemaRegistry({ host, retry: { retries: 2 } });
  }

  async decode(bytes: Buffer): Promise<DecodedSourceValue> {
    try {
      return { ok: true, value: await this.registry.decode(bytes) };
    } catch (error) {
      const isRegistryAnswer = error instanceof Error && error.name === 'ResponseError';
      if (isRegistryAnswer && !isMissingSchema(error)) {
        throw AppError.unavailable(`the schema registry did not answer: ${errorText(error)}`);
      }
      return { ok: false, reason: `value is not Avro of a registered schema: ${errorText(error)}` };
    }
  }
}

import { randomBytes } from 'node:crypto';

/**
 * A name no other test uses (`orders_3f9a1c0d`): for topics, consumer groups and schemas on the
 * shared cluster and server, so a rerun or a neighbouring spec never reads another's data.
 * Lower case letters, digits and underscores, valid as a Postgres identifier and a Kafka topic.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

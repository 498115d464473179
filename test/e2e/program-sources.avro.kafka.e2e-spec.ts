import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { KafkaBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { IngestionModule } from '@mmp/ingestion-service';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, uniqueName, useTestDatabase } from '../support';
import { api } from './order-events';

/** The retailer's order record, in Avro: the shape of program/examples/orders-source. */
const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'com.shop',
  fields: [
    { name: 'order_ref', type: 'string' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['PLACED', 'REFUNDED'] } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'Customer',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'email', type: ['null', 'string'], default: null },
          { name: 'first_name', type: ['null', 'string'], default: null },
        ],
      },
    },
    { name: 'amount_cents', type: 'long' },
    { name: 'currency', type: 'string' },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'qty', type: 'int' },
            { name: 'unit_cents', type: 'long' },
          ],
        },
      },
    },
  ],
};
const ORDER_SCHEMA_ID = 7;

/**
 * The Confluent Schema Registry's REST API as far as reading needs it (`GET /schemas/ids/{id}`),
 * on loopback: no registry runs here (docker-compose.yml has a real one for the full stack).
 */
async function startFakeRegistry(): Promise<{ url: string; server: Server }> {
  const schemas = new Map([[ORDER_SCHEMA_ID, JSON.stringify(ORDER_SCHEMA)]]);
  const server = createServer((request, response) => {
    const id = /^\/schemas\/ids\/(\d+)/.exec(request.url ?? '')?.[1];
    const schema = id === undefined ? undefined : schemas.get(Number(id));
    response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (schema === undefined) {
      response.writeHead(404).end(JSON.stringify({ error_code: 40403, message: `Schema ${id} not found` }));
      return;
    }
    response.writeHead(200).end(JSON.stringify({ schema }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The example program's mapping, read as an avro source of `topic` through `registry`. */
function avroProgram(topic: string, registry: string) {
  const example = readFileSync('program/examples/orders-source/program.yaml', 'utf8');
  const source = example
    .replace('  - topic: orders\n', `  - topic: ${topic}\n`)
    .replace('    format: json\n', `    format: avro\n    schemaRegistry: ${registry}\n`);
  return parseProgram(source);
}

/**
 * An Avro program source over the Kafka protocol (the kcat mock cluster, or KAFKA_BROKERS):
 * ingestion alone, on real Postgres, reading Confluent-framed Avro records through the registry.
 */
describe('an avro program source, over Kafka', () => {
  const database = useTestDatabase();
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((broker) => broker.length > 0);
  const topic = uniqueName('shop-orders');
  const dlq = `${topic}.dlq`;
  const letters: { value: Buffer; headers: Record<string, string> }[] = [];
  let registry: { url: string; server: Server };
  let app: INestApplication;
  let baseUrl: string;
  let producer: Producer;
  let tap: Consumer;

  beforeAll(async () => {
    registry = await startFakeRegistry();
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: brokers.join(','),
      PORT: '0',
      API_KEYS: 'test-key',
      LOG_LEVEL: 'error',
    });
    const bus = new KafkaBus({ brokers, clientId: uniqueName('avro-source'), idempotentProducer: 'auto' });
    app = await startServices({
      name: 'ingestion',
      services: [IngestionModule],
      config,
      bus,
      program: new ProgramStore(avroProgram(topic, registry.url)),
    });
    baseUrl = await loopbackUrlOf(app);

    const kafka = new Kafka({ clientId: uniqueName('avro-tap'), brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    tap = kafka.consumer({ groupId: uniqueName('avro-dlq-tap'), maxWaitTimeInMs: 200 });
    await tap.connect();
    await tap.subscribe({ topics: [dlq], fromBeginning: true });
    await tap.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        );
        letters.push({ value: message.value ?? Buffer.alloc(0), headers });
      },
    });
  }, 120_000);

  afterAll(async () => {
    await tap?.disconnect();
    await producer?.disconnect();
    await app?.close();
    registry?.server.close();
  }, 60_000);

  it('ingests Avro records, and dead-letters an unknown schema id, bytes that are not Avro and a record that does not map, unchanged', async () => {
    const encoder = new SchemaRegistry({ host: registry.url });
    const customerId = uniqueName('c-avro');
    const at = (minutesAgo: number) => Date.now() - minutesAgo * 60_000;
    const order = (ref: string, minutesAgo: number, extra: Record<string, unknown> = {}) =>
      encoder.encode(ORDER_SCHEMA_ID, {
        order_ref: ref,
        status: 'PLACED',
        at: at(minutesAgo),
        customer: { id: customerId, email: `${customerId}@example.com`, first_name: 'Ann' },
        amount_cents: 12990,
        currency: 'usd',
        lines: [{ sku: 'MUG', qty: 2, unit_cents: 6495 }],
        ...extra,
      });
    const refund = await encoder.encode(ORDER_SCHEMA_ID, {
      order_ref: 'A-2',
      status: 'REFUNDED',
      at: at(10),
      customer: { id: customerId, email: null, first_name: null },
      amount_cents: 1000,
      currency: 'usd',
      lines: [],
    });
    const unknownSchema = Buffer.concat([Buffer.from([0, 0, 0, 0, 99]), Buffer.from('whatever')]);
    const notAvro = Buffer.from(JSON.stringify({ order_ref: 'A-9' }));
    const unmappable = await order('A-3', 5, { currency: 'dollars' });

    await producer.send({
      topic,
      messages: [
        await order('A-1', 30),
        await order('A-2', 20),
        refund,
        unknownSchema,
        notAvro,
        unmappable,
      ].map((value) => ({ key: customerId, value })),
    });

    const profile = await eventually(
      async () => {
        const response = await api(baseUrl, `/v1/customers/${customerId}`);
        expect(response.body?.attributes?.eventCounts).toEqual({ 'order.placed': 2, 'order.refunded': 1 });
        return response.body;
      },
      { timeoutMs: 45_000 },
    );
    expect(profile).toMatchObject({
      traits: { email: `${customerId}@example.com`, firstName: 'Ann' },
      attributes: { lifetimeOrders: 2, lifetimeValue: '249.80' },
    });

    await eventually(() => expect(letters).toHaveLength(3), { timeoutMs: 30_000 });
    expect(letters.map((letter) => [letter.value, letter.headers['dlq-reason']])).toEqual([
      [
        unknownSchema,
        expect.stringMatching(/^value is not Avro of a registered schema: .*Schema 99 not found/),
      ],
      [notAvro, expect.stringMatching(/^value is not Avro of a registered schema: .*magic byte/)],
      [unmappable, 'properties.currency: must be an ISO 4217 code such as "USD" (from mapping.properties)'],
    ]);
    expect(letters.map((letter) => letter.headers['dlq-source-topic'])).toEqual([topic, topic, topic]);
  }, 120_000);
});

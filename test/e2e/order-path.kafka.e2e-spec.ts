import {
  MessagesEventsTopic,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  RetailEventsTopic,
} from '@mmp/contracts';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { eventually, uniqueName, useTestDatabase } from '../support';
import { api, expectedSecondOrderMessage, orderPathEvents } from './order-events';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from './service-processes';

const SERVICES = ['ingestion', 'milestones', 'journeys', 'delivery', 'consent', 'analytics'] as const;

interface Record_ {
  topic: string;
  key: string;
  value: Record<string, unknown>;
  raw: string;
}

/**
 * The walking skeleton's path with each service in its own process, talking only over the
 * Kafka protocol (the kcat mock cluster, or KAFKA_BROKERS), on one real Postgres.
 */
describe('the order path, as six service processes over Kafka', () => {
  const database = useTestDatabase();
  const services = new Map<string, ServiceProcess>();
  let kafka: Kafka;
  let producer: Producer;
  let tap: Consumer;
  const seen: Record_[] = [];
  const runId = uniqueName('run');

  const url = (name: (typeof SERVICES)[number]) => {
    const service = services.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service.url;
  };
  const recordsOn = (topic: string, key: string) => seen.filter((r) => r.topic === topic && r.key === key);

  beforeAll(async () => {
    const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
    const env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: brokers.join(','),
      API_KEYS: 'test-key',
      PROGRAM_DIR: 'program',
      LOG_LEVEL: 'warn',
    };
    // Started one after the other: on two cores, six TypeScript processes at once only slow each other.
    for (const name of SERVICES) services.set(name, await startServiceProcess(name, env));

    kafka = new Kafka({ clientId: runId, brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    // A consumer of our own that records every message on the internal topics.
    tap = kafka.consumer({ groupId: `${runId}-tap` });
    await tap.connect();
    await tap.subscribe({
      topics: [MilestonesReachedTopic.name, MessagesRequestedTopic.name, MessagesEventsTopic.name],
      fromBeginning: true,
    });
    await tap.run({
      eachMessage: async ({ topic, message }) => {
        const raw = message.value?.toString() ?? '';
        seen.push({ topic, key: message.key?.toString() ?? '', value: JSON.parse(raw), raw });
      },
    });
  }, 240_000);

  afterAll(async () => {
    await tap?.disconnect();
    await producer?.disconnect();
    await Promise.all([...services.values()].map(stopServiceProcess));
  }, 60_000);

  const customerId = `c-kafka-${Date.now()}`;

  it('sends exactly the second-order email once two orders arrived', async () => {
    const posted = await api(url('ingestion'), '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    expect(posted).toEqual({ status: 202, body: { accepted: 3, duplicates: 0, rejected: [] } });

    const messages = await eventually(
      async () => {
        const res = await api(url('delivery'), `/v1/customers/${customerId}/messages`);
        expect(res.body).toHaveLength(1);
        expect(res.body[0].status).toBe('sent');
        return res.body;
      },
      { timeoutMs: 30_000 },
    );
    expect(messages[0]).toMatchObject(expectedSecondOrderMessage(customerId));
    const milestones = await api(url('milestones'), `/v1/customers/${customerId}/milestones`);
    expect(milestones.body).toEqual([
      { key: 'second_order', occurrence: '2', reachedAt: expect.any(String) },
    ]);
    await eventually(() => {
      expect(recordsOn(MessagesEventsTopic.name, customerId).map((r) => r.value['status'])).toEqual(['sent']);
    });
  }, 60_000);

  it('sends nothing twice when the retailer and every internal topic redeliver', async () => {
    const events = orderPathEvents(customerId);
    // Our tap reads each partition at its own pace: wait until it has caught up on both topics.
    const { milestone, requested } = await eventually(() => {
      const found = {
        milestone: recordsOn(MilestonesReachedTopic.name, customerId),
        requested: recordsOn(MessagesRequestedTopic.name, customerId),
      };
      expect(found.milestone).toHaveLength(1);
      expect(found.requested).toHaveLength(1);
      return found;
    });
    const messageId = String(requested[0]?.value['messageId']);

    // Redeliver: the retailer retries over HTTP and Kafka; every internal hop sees its messages again.
    const again = await api(url('ingestion'), '/v1/events', { method: 'POST', body: { batch: events } });
    expect(again.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
    await producer.send({
      topic: RetailEventsTopic.name,
      messages: [
        ...events.map((e) => ({ key: customerId, value: JSON.stringify(e) })),
        // Same key, so it is consumed after the replays: once it shows, they were handled.
        {
          key: customerId,
          value: JSON.stringify({
            eventId: `${customerId}-v1`,
            type: 'product.viewed',
            occurredAt: new Date().toISOString(),
            customerId,
            properties: { sku: 'sku-1' },
          }),
        },
      ],
    });
    const sentinelMessage = {
      ...(requested[0]?.value ?? {}),
      messageId: `${messageId}-sentinel`,
      stepId: 'sentinel',
    };
    // A new occurrence behind the replayed one, same key: once its journey runs, the replay was handled.
    const sentinelOccurrence = {
      ...(milestone[0]?.value ?? {}),
      occurrenceId: `${String(milestone[0]?.value['occurrenceId'])}-sentinel`,
      occurrence: '99',
    };
    await producer.send({
      topic: MilestonesReachedTopic.name,
      messages: [
        ...milestone.map((r) => ({ key: r.key, value: r.raw })),
        { key: customerId, value: JSON.stringify(sentinelOccurrence) },
      ],
    });
    await producer.send({
      topic: MessagesRequestedTopic.name,
      messages: [
        ...requested.map((r) => ({ key: r.key, value: r.raw })),
        { key: customerId, value: JSON.stringify(sentinelMessage) },
      ],
    });

    await eventually(
      async () => {
        const profile = await api(url('ingestion'), `/v1/customers/${customerId}`);
        expect(profile.body.attributes.eventCounts).toEqual({
          'customer.registered': 1,
          'order.placed': 2,
          'product.viewed': 1,
        });
        const messages = await api(url('delivery'), `/v1/customers/${customerId}/messages`);
        expect(messages.body.map((m: { stepId: string }) => m.stepId).sort()).toEqual([
          'sentinel',
          'thank',
          'thank',
        ]);
      },
      { timeoutMs: 30_000 },
    );
    const messages = await api(url('delivery'), `/v1/customers/${customerId}/messages`);
    const original = messages.body.filter((m: { messageId: string }) => m.messageId === messageId);
    expect(original).toHaveLength(1);
    expect(original[0]).toMatchObject(expectedSecondOrderMessage(customerId));
    const journeys = await api(url('journeys'), `/v1/customers/${customerId}/journeys`);
    // The original instance and the sentinel occurrence's: the replayed milestone entered nothing.
    expect(journeys.body).toHaveLength(2);
    for (const journey of journeys.body) {
      expect(journey).toMatchObject({
        journeyKey: 'second_order_thanks',
        status: 'completed',
        group: 'treatment',
      });
    }
    await eventually(() => {
      const statuses = recordsOn(MessagesEventsTopic.name, customerId)
        .filter((r) => r.value['messageId'] === messageId)
        .map((r) => r.value['status']);
      expect(statuses).toEqual(['sent']);
      expect(
        recordsOn(MessagesRequestedTopic.name, customerId).filter((r) => r.value['messageId'] === messageId),
      ).toHaveLength(2);
    });
  }, 90_000);
});

import 'reflect-metadata';
import { defineTopic } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import {
  Catch,
  Controller,
  Inject,
  Logger,
  Module,
  type ExceptionFilter,
  type INestMicroservice,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { map, of, timer, type Observable } from 'rxjs';
import { z } from 'zod';
import { InMemoryBus } from '../in-memory-bus';
import { MESSAGE_BUS, type IncomingMessage, type MessageBus } from '../message-bus';
import { BusContext, BusServer } from './bus-server';
import { BusModule } from './bus.module';
import { OnMessages } from './on-messages.decorator';

const Order = z.object({ orderId: z.string(), total: z.number() });
type Order = z.infer<typeof Order>;
const OrdersTopic = defineTopic({
  name: 'test.orders.v1',
  schemaVersion: 1,
  schema: Order,
  description: 'test',
});
const ReceiptsTopic = defineTopic({
  name: 'test.receipts.v1',
  schemaVersion: 1,
  schema: Order,
  description: 'test',
});

/** What the handlers saw, shared by the test and the controllers. */
const seen = {
  billing: [] as string[][],
  analytics: [] as string[][],
  receipts: [] as string[],
  contexts: [] as string[],
  failuresOf: new Map<string, number>(),
};

/** A test switch: which order ids the billing handler rejects, and how. */
const behaviour = { poison: new Set<string>(), unavailableTimes: 0 };

@Controller()
class BillingController {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  @OnMessages(OrdersTopic, 'billing')
  async onOrders(
    @Payload() batch: readonly IncomingMessage<Order>[],
    @Ctx() context: BusContext,
  ): Promise<void> {
    seen.contexts.push(`${context.getTopic()} ${context.getGroupId()}`);
    const ids = batch.map((message) => message.value.orderId);
    for (const id of ids) seen.failuresOf.set(id, seen.failuresOf.get(id) ?? 0);
    if (behaviour.unavailableTimes > 0) {
      behaviour.unavailableTimes -= 1;
      throw AppError.unavailable('ledger database is down');
    }
    const poison = ids.find((id) => behaviour.poison.has(id));
    if (poison) {
      seen.failuresOf.set(poison, (seen.failuresOf.get(poison) ?? 0) + 1);
      throw new Error(`order ${poison} has no customer`);
    }
    seen.billing.push(ids);
    await this.bus.publish(
      ReceiptsTopic,
      batch.map((message) => ({ key: message.key, value: message.value })),
    );
  }
}

@Module({ controllers: [BillingController] })
class BillingModule {}

@Controller()
class AnalyticsController {
  @OnMessages(OrdersTopic, 'analytics')
  async onOrders(batch: readonly IncomingMessage<Order>[]): Promise<void> {
    seen.analytics.push(batch.map((message) => message.value.orderId));
  }

  /** Answers with a lazy observable, as Nest handlers may: BusServer must subscribe and wait for it. */
  @OnMessages(ReceiptsTopic, 'analytics')
  onReceipts(batch: readonly IncomingMessage<Order>[]): Observable<void> {
    return timer(5).pipe(
      map(() => void seen.receipts.push(...batch.map((message) => message.value.orderId))),
    );
  }
}

@Module({ controllers: [AnalyticsController] })
class AnalyticsModule {}

/** An application-wide catch-all, like an HTTP error filter: it must not swallow bus handler errors. */
@Catch()
class SwallowEverything implements ExceptionFilter {
  catch(): Observable<string> {
    return of('swallowed');
  }
}

describe('BusServer', () => {
  let bus: InMemoryBus;
  let app: INestMicroservice;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    seen.billing = [];
    seen.analytics = [];
    seen.receipts = [];
    seen.contexts = [];
    seen.failuresOf.clear();
    behaviour.poison.clear();
    behaviour.unavailableTimes = 0;
    bus = new InMemoryBus({ retry: { attempts: 3, initialBackoffMs: 1, maxBackoffMs: 5 } });

    @Module({
      imports: [BusModule.forRoot(bus), BillingModule, AnalyticsModule],
      providers: [{ provide: APP_FILTER, useClass: SwallowEverything }],
    })
    class AppModule {}

    app = await NestFactory.createMicroservice(AppModule, { strategy: new BusServer(bus), logger: false });
    await app.listen();
  });

  afterEach(async () => {
    await app.close();
  });

  it('starts the bus on listen and stops it on close', async () => {
    expect(await bus.isReady()).toBe(true);

    await app.close();

    expect(await bus.isReady()).toBe(false);
  });

  it('hands each group every message in batches, and a handler may publish follow-ups', async () => {
    await bus.publish(OrdersTopic, [
      { key: 'c-1', value: { orderId: 'o-1', total: 10 } },
      { key: 'c-1', value: { orderId: 'o-2', total: 20 } },
    ]);
    await bus.whenIdle();

    expect(seen.billing).toEqual([['o-1', 'o-2']]);
    expect(seen.analytics).toEqual([['o-1', 'o-2']]);
    expect(seen.receipts).toEqual(['o-1', 'o-2']);
    expect(seen.contexts).toEqual(['test.orders.v1 billing']);
  });

  it('passes a throwing handler’s own error to the bus: retried, then only the poison message goes to the DLQ', async () => {
    behaviour.poison.add('o-2');

    await bus.publish(OrdersTopic, [
      { key: 'c-1', value: { orderId: 'o-1', total: 10 } },
      { key: 'c-1', value: { orderId: 'o-2', total: 20 } },
      { key: 'c-1', value: { orderId: 'o-3', total: 30 } },
    ]);
    await bus.whenIdle();

    // Three tries of the batch, then three of the poison message alone.
    expect(seen.failuresOf.get('o-2')).toBe(6);
    expect(seen.billing).toEqual([['o-1'], ['o-3']]);
    const letters = bus.messagesOn(OrdersTopic.dlq);
    expect(
      letters.map((letter) => [
        letter.value,
        letter.headers['dlq-reason'],
        letter.headers['dlq-consumer-group'],
      ]),
    ).toEqual([[{ orderId: 'o-2', total: 20 }, 'order o-2 has no customer', 'billing']]);
    expect(seen.analytics).toEqual([['o-1', 'o-2', 'o-3']]);
  });

  it('keeps a retriable AppError retriable through Nest: retried past the attempt limit, never dead-lettered', async () => {
    behaviour.unavailableTimes = 5;

    await bus.publish(OrdersTopic, [{ key: 'c-1', value: { orderId: 'o-1', total: 10 } }]);
    await bus.whenIdle();

    expect(behaviour.unavailableTimes).toBe(0);
    expect(seen.billing).toEqual([['o-1']]);
    expect(bus.messagesOn(OrdersTopic.dlq)).toEqual([]);
  });
});

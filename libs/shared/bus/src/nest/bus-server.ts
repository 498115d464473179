import {
  BaseRpcContext,
  Server,
  type CustomTransportStrategy,
  type MessageHandler,
} from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { IncomingMessage, MessageBus } from '../message-bus';
import { readBusBinding } from './on-messages.decorator';

/** What `@Ctx()` gives an @OnMessages handler. */
export class BusContext extends BaseRpcContext<[topic: string, groupId: string]> {
  getTopic(): string {
    return this.args[0];
  }

  getGroupId(): string {
    return this.args[1];
  }
}

/**
 * A Nest microservice transport on the MessageBus: every @OnMessages handler becomes a bus
 * subscription, so Nest handlers get the bus's batches, retries and dead letters instead of the
 * stock Kafka transport's message-at-a-time delivery that stalls a partition on a throwing
 * handler (nestjs/nest #12703, #9455).
 */
export class BusServer extends Server implements CustomTransportStrategy {
  /** Handler errors go back to the bus's failure policy instead of only being logged. */
  override readonly propagatesEventHandlerErrors = true;

  constructor(private readonly bus: MessageBus) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    try {
      this.subscribeHandlers();
    } catch (error) {
      callback(error);
      return;
    }
    void this.bus.start().then(
      () => {
        this._status$.next('connected');
        callback();
      },
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.bus.stop();
    this._status$.next('disconnected');
  }

  on(): never {
    throw new Error('BusServer emits no events: watch the MessageBus (isReady) instead');
  }

  unwrap<T>(): T {
    throw new Error('BusServer wraps no client: inject MESSAGE_BUS to reach the MessageBus');
  }

  private subscribeHandlers(): void {
    for (const [pattern, handler] of this.messageHandlers) {
      const binding = readBusBinding(handler.extras);
      if (!binding || !handler.isEventHandler) {
        this.logger.warn(`BusServer ignores ${pattern}: only @OnMessages handlers are served`);
        continue;
      }
      const context = new BusContext([binding.topic.name, binding.groupId]);
      this.bus.subscribe({
        topic: binding.topic,
        groupId: binding.groupId,
        handler: (batch) => this.invoke(handler, batch, context),
      });
    }
  }

  /** Nest answers with a value, a promise or an observable; a failure of any of them is thrown here. */
  private async invoke(
    handler: MessageHandler,
    batch: readonly IncomingMessage<unknown>[],
    context: BusContext,
  ): Promise<void> {
    const result: unknown = await handler(batch, context);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}

import type { Topic } from '@mmp/contracts';
import { applyDecorators, Catch, UseFilters, type ExceptionFilter } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';

/** Where OnMessages leaves the topic and group for BusServer, in the handler's Nest "extras". */
export const BUS_BINDING_EXTRA = 'mmp.bus.binding';

export interface BusBinding {
  topic: Topic<unknown>;
  groupId: string;
}

/**
 * Nest's RPC exception layer turns any handler error into a generic "Internal server error";
 * the bus needs the error itself (is it retriable? what is the DLQ reason?), so the error of an
 * @OnMessages method passes through unchanged. A method-level filter wins over global ones.
 */
@Catch()
export class PassHandlerErrorsToBus implements ExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Marks a controller method as the handler of a topic for a consumer group. The method receives
 * `readonly IncomingMessage<T>[]` (one partition, offset order) and may throw to hand the batch
 * to the bus's retry and dead-letter policy. Several modules may handle one topic with
 * different groups: each group receives every message.
 */
export function OnMessages<T>(topic: Topic<T>, groupId: string): MethodDecorator {
  const binding = { topic, groupId };
  return applyDecorators(
    EventPattern({ topic: topic.name, group: groupId }, { [BUS_BINDING_EXTRA]: binding }),
    UseFilters(new PassHandlerErrorsToBus()),
  );
}

export function readBusBinding(extras: Record<string, unknown> | undefined): BusBinding | undefined {
  const binding: unknown = extras?.[BUS_BINDING_EXTRA];
  if (typeof binding !== 'object' || binding === null || !('topic' in binding) || !('groupId' in binding))
    return undefined;
  const { topic, groupId } = binding;
  return isTopic(topic) && typeof groupId === 'string' ? { topic, groupId } : undefined;
}

function isTopic(value: unknown): value is Topic<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    typeof value.name === 'string' &&
    'dlq' in value &&
    typeof value.dlq === 'string' &&
    'schema' in value &&
    typeof value.schema === 'object'
  );
}

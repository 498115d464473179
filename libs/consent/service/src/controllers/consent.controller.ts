import { apiRoute, Route } from '@mmp/server';
import { CLOCK, type Clock } from '@mmp/clock';
import { Channel, ConsentChangeV1, ConsentStatus, validate } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { ProgramStore } from '@mmp/program';
import { Body, Controller, Get, Inject, Param, Put, Req } from '@nestjs/common';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConsentStore, type RecordedChange, type SuppressedAddress } from '../store/consent.store';
import { RecordConsentChangesUsecase } from '../usecases/record-consent-changes/record-consent-changes.usecase';
import { clientInfoOf } from './client-info.util';

const ConsentUpdate = z.strictObject({
  status: ConsentStatus,
  source: z.string().min(1).max(128),
  /** Who made the change on the retailer's side (a support agent, a preference centre); `api` when absent. */
  actor: z.string().min(1).max(256).optional(),
});

const RecordedChangeSchema = ConsentChangeV1.extend({
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  messageId: z.string().nullable(),
}).meta({ id: 'ConsentChange' });

export interface ChannelConsent {
  channel: Channel;
  /** `opt-in`: sent only after an opt-in; `opt-out`: sent unless opted out (policies.consent). */
  model: 'opt-in' | 'opt-out';
  status: ConsentStatus | 'not_set';
  /** Whether a message on this channel may be sent now, under the model and the status. */
  allowed: boolean;
  source: string | null;
  changedAt: string | null;
}

@Controller('v1/customers')
export class ConsentController {
  constructor(
    private readonly store: ConsentStore,
    private readonly program: ProgramStore,
    private readonly recordChanges: RecordConsentChangesUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':customerId/consent')
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/customers/{customerId}/consent',
      tag: 'consent',
      summary: 'Consent per channel (model, status, allowed now) and suppressed addresses',
      params: z.object({ customerId: z.string().min(1) }),
      responses: {
        200: {
          description: 'The consent',
          schema: z.object({
            customerId: z.string(),
            channels: z.array(
              z.object({
                channel: Channel,
                model: z.enum(['opt-in', 'opt-out']),
                status: z.string(),
                allowed: z.boolean(),
                source: z.string().nullable(),
                changedAt: z.string().nullable(),
              }),
            ),
            suppressedAddresses: z.array(z.record(z.string(), z.unknown())),
          }),
        },
      },
    }),
  )
  async get(@Param('customerId') customerId: string): Promise<{
    customerId: string;
    channels: ChannelConsent[];
    suppressedAddresses: SuppressedAddress[];
  }> {
    const [current, suppressedAddresses] = await Promise.all([
      this.store.current(customerId),
      this.store.suppressedAddresses(customerId),
    ]);
    const models = this.program.current().policies.consent;
    return {
      customerId,
      channels: Channel.options.map((channel) => {
        const change = current.find((c) => c.channel === channel);
        const status = change?.status ?? 'not_set';
        const model = models[channel];
        return {
          channel,
          model,
          status,
          allowed: model === 'opt-out' ? status !== 'opted_out' : status === 'opted_in',
          source: change?.source ?? null,
          changedAt: change?.changedAt ?? null,
        };
      }),
      suppressedAddresses,
    };
  }

  /** Every change, newest first: status, source, actor, time, and IP, user agent and message where known. */
  @Get(':customerId/consent/history')
  @Route(
    apiRoute({
      method: 'get',
      path: '/v1/customers/{customerId}/consent/history',
      tag: 'consent',
      summary:
        'Every consent change, newest first: status, source, actor, time, and IP, user agent and message where known',
      params: z.object({ customerId: z.string().min(1) }),
      responses: { 200: { description: 'The changes', schema: z.array(RecordedChangeSchema) } },
    }),
  )
  async history(@Param('customerId') customerId: string): Promise<RecordedChange[]> {
    return this.store.history(customerId);
  }

  @Put(':customerId/consent/:channel')
  @Route(
    apiRoute({
      method: 'put',
      path: '/v1/customers/{customerId}/consent/{channel}',
      tag: 'consent',
      summary: 'Records a consent change (always, even when it repeats the status)',
      params: z.object({ customerId: z.string().min(1), channel: Channel }),
      body: ConsentUpdate,
      responses: { 200: { description: 'The change recorded', schema: RecordedChangeSchema } },
    }),
  )
  async put(
    @Param('customerId') customerId: string,
    @Param('channel') channelParam: string,
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<RecordedChange> {
    const channel = validate(Channel, channelParam);
    if (!channel.ok) {
      throw AppError.validation(`unknown channel ${channelParam}`, [
        { path: 'channel', message: 'must be email, sms or push' },
      ]);
    }
    const update = validate(ConsentUpdate, body);
    if (!update.ok) throw AppError.validation('invalid consent change', update.issues);
    const change: RecordedChange = {
      schemaVersion: 1,
      changeId: randomUUID(),
      customerId,
      channel: channel.value,
      status: update.value.status,
      source: update.value.source,
      actor: update.value.actor ?? 'api',
      changedAt: this.clock.now().toISOString(),
      address: null,
      ...clientInfoOf(req),
      messageId: null,
    };
    // An explicit change through the API is always recorded, even when it repeats the status:
    // it is the retailer's statement of consent at that time.
    await this.recordChanges.execute([change], { onlyIfChanged: false });
    return change;
  }
}

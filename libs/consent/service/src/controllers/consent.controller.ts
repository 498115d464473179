import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import { Channel, ConsentChangesTopic, ConsentStatus, validate, type ConsentChangeV1 } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { ProgramStore } from '@mmp/program';
import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConsentStore } from '../store/consent.store';

const ConsentUpdate = z.strictObject({
  status: ConsentStatus,
  source: z.string().min(1).max(128),
});

export interface ChannelConsent {
  channel: Channel;
  /** `opt-in`: sent only after an opt-in; `opt-out`: sent unless opted out (policies.consent). */
  model: 'opt-in' | 'opt-out';
  status: ConsentStatus | 'not_set';
  source: string | null;
  changedAt: string | null;
}

@Controller('v1/customers')
export class ConsentController {
  constructor(
    private readonly store: ConsentStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':customerId/consent')
  async get(
    @Param('customerId') customerId: string,
  ): Promise<{ customerId: string; channels: ChannelConsent[] }> {
    const current = await this.store.current(customerId);
    const models = this.program.current().policies.consent;
    return {
      customerId,
      channels: Channel.options.map((channel) => {
        const change = current.find((c) => c.channel === channel);
        return {
          channel,
          model: models[channel],
          status: change?.status ?? 'not_set',
          source: change?.source ?? null,
          changedAt: change?.changedAt ?? null,
        };
      }),
    };
  }

  @Get(':customerId/consent/history')
  async history(@Param('customerId') customerId: string): Promise<ConsentChangeV1[]> {
    return this.store.history(customerId);
  }

  @Put(':customerId/consent/:channel')
  async put(
    @Param('customerId') customerId: string,
    @Param('channel') channelParam: string,
    @Body() body: unknown,
  ): Promise<ConsentChangeV1> {
    const channel = validate(Channel, channelParam);
    if (!channel.ok) {
      throw AppError.validation(`unknown channel ${channelParam}`, [
        { path: 'channel', message: 'must be email, sms or push' },
      ]);
    }
    const update = validate(ConsentUpdate, body);
    if (!update.ok) throw AppError.validation('invalid consent change', update.issues);
    const change: ConsentChangeV1 = {
      schemaVersion: 1,
      changeId: randomUUID(),
      customerId,
      channel: channel.value,
      status: update.value.status,
      source: update.value.source,
      actor: 'api',
      changedAt: this.clock.now().toISOString(),
    };
    await this.store.record(change);
    await this.publishPending();
    return change;
  }

  /** Publishes every change not yet on consent.changes.v1, this one and any an earlier failure left. */
  private async publishPending(): Promise<void> {
    const pending = await this.store.unpublished();
    if (pending.length === 0) return;
    await this.bus.publish(
      ConsentChangesTopic,
      pending.map((c) => ({ key: c.customerId, value: c })),
    );
    await this.store.markPublished(
      pending.map((c) => c.changeId),
      this.clock.now(),
    );
  }
}

import { AppError } from '@mmp/errors';
import { ProgramStore } from '@mmp/program';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ChannelRegistry } from '../../channels/channel-registry';
import { MessageComposer, type PreviewableProfile } from '../../compose/message-composer';
import { SnapshotStore } from '../../store/snapshot.store';

/** `POST /v1/templates/{name}/preview`: a customer id or a sample profile, and optionally an address to test-send to. */
export const PreviewTemplateCommand = z
  .strictObject({
    customerId: z.string().min(1).optional(),
    profile: z
      .object({
        traits: z.record(z.string(), z.unknown()).default({}),
        attributes: z.record(z.string(), z.unknown()).default({}),
      })
      .optional(),
    milestone: z.record(z.string(), z.unknown()).default({}),
    offer: z.record(z.string(), z.unknown()).default({}),
    journey: z.record(z.string(), z.unknown()).default({}),
    /** Sends the rendered message to this address (email, phone or push token) through the channel's plugin. */
    sendTo: z.string().min(3).optional(),
  })
  .refine((c) => c.customerId !== undefined || c.profile !== undefined, {
    error: 'give a customerId or a sample profile',
    path: ['customerId'],
  });
export type PreviewTemplateCommand = z.infer<typeof PreviewTemplateCommand>;

export interface PreviewResult {
  template: string;
  channel: string;
  subject: string | null;
  html: string | null;
  text: string | null;
  body: string | null;
  title: string | null;
  testSend?: { to: string; provider: string; providerMessageId: string };
}

@Injectable()
export class PreviewTemplateUsecase {
  constructor(
    private readonly program: ProgramStore,
    private readonly composer: MessageComposer,
    private readonly snapshots: SnapshotStore,
    private readonly channels: ChannelRegistry,
  ) {}

  async execute(name: string, body: unknown): Promise<PreviewResult> {
    const parsed = PreviewTemplateCommand.safeParse(body ?? {});
    if (!parsed.success)
      throw AppError.validation(
        'invalid preview request',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    const command = parsed.data;
    const template = this.program.current().templates[name];
    if (!template) throw AppError.notFound(`no template is called ${name}`);
    const customer = await this.customerOf(command);
    const customerId = command.customerId ?? 'preview';
    const input = {
      messageId: `preview_${randomUUID().replace(/-/g, '')}`,
      customerId,
      channel: template.channel,
      templateName: name,
      customer,
      milestone: command.milestone,
      journey: command.journey,
      offer: command.offer,
    };
    const composed = this.composer.compose(input);
    if (!composed.ok)
      throw AppError.validation(`the template does not render: ${composed.detail}`, [
        { path: name, message: composed.detail },
      ]);
    const { rendered } = composed;
    const result: PreviewResult = {
      template: name,
      channel: template.channel,
      subject: rendered.subject ?? null,
      html: rendered.html ?? null,
      text: rendered.text ?? null,
      body: rendered.body ?? null,
      title: rendered.title ?? null,
    };
    if (command.sendTo === undefined) return result;
    const { provider, sender } = this.channels.senderFor(template.channel);
    const to = template.channel === 'push' ? [command.sendTo] : command.sendTo;
    const outbound = this.composer.outbound(input, to, composed);
    try {
      const sent = await sender.send({
        ...outbound,
        subject: outbound.subject === undefined ? undefined : `[TEST] ${outbound.subject}`,
      });
      return {
        ...result,
        testSend: { to: command.sendTo, provider, providerMessageId: sent.providerMessageId },
      };
    } catch (error) {
      const classified = sender.classifyError(error);
      throw new AppError(
        'unavailable',
        `the test send failed: ${classified.reason}`,
        undefined,
        classified.kind === 'retryable',
      );
    }
  }

  private async customerOf(command: PreviewTemplateCommand): Promise<PreviewableProfile> {
    if (command.profile) {
      return { traits: command.profile.traits, attributes: command.profile.attributes };
    }
    const snapshot = command.customerId ? await this.snapshots.snapshotOf(command.customerId) : undefined;
    if (!snapshot)
      throw AppError.notFound(
        `delivery has no profile of customer ${command.customerId ?? ''} yet (it keeps the one of their last message); pass a sample profile`,
      );
    return snapshot;
  }
}

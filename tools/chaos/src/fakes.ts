import {
  startFcmFake,
  startSesFake,
  startTwilioFake,
  TWILIO_TEST_ACCOUNT_SID,
  TWILIO_TEST_AUTH_TOKEN,
  type FcmFake,
  type SesFake,
  type TwilioFake,
} from '@mmp/channel-testing';
import type { ConsentChannel } from './history';

/** One call a provider fake received, with what identifies the message and its customer. */
export interface ProviderCall {
  channel: ConsentChannel;
  /** The messageId the plugin carried (SES header, FCM data); Twilio carries none. */
  messageId: string | undefined;
  /** The address called: email, phone or push token. */
  to: string;
  /** The stage during which the call was seen (see ProviderFakes.markStage). */
  stage: number;
}

/**
 * SES, Twilio and FCM stand-ins on loopback (`@mmp/channel-testing`), reached through the real
 * SDKs, with every call kept and tagged by the stage of the replay it happened in.
 */
export class ProviderFakes {
  private readonly seen: ProviderCall[] = [];
  private counted = { ses: 0, twilio: 0, fcm: 0 };

  private constructor(
    private readonly ses: SesFake,
    private readonly twilio: TwilioFake,
    private readonly fcm: FcmFake,
  ) {}

  static async start(): Promise<ProviderFakes> {
    const [ses, twilio, fcm] = await Promise.all([
      startSesFake(),
      startTwilioFake(),
      startFcmFake('mmp-chaos'),
    ]);
    return new ProviderFakes(ses, twilio, fcm);
  }

  /** The settings that point delivery's plugins at these fakes (SPEC section 3). */
  environment(): Record<string, string> {
    return {
      EMAIL_PROVIDER: 'ses',
      EMAIL_FROM: 'Shop <shop@example.com>',
      SES_REGION: 'us-east-1',
      SES_ENDPOINT: this.ses.endpoint,
      // The AWS SDK reads its credentials from the environment, as in production.
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      SMS_PROVIDER: 'twilio',
      SMS_FROM: '+14155550199',
      TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TEST_AUTH_TOKEN,
      TWILIO_API_BASE: this.twilio.apiBase,
      PUSH_PROVIDER: 'fcm',
      FCM_PROJECT_ID: 'mmp-chaos',
      FCM_ENDPOINT: this.fcm.endpoint,
      // The plugins' own rates (SES 14/s) would make a run of thousands of messages take minutes.
      EMAIL_RATE_LIMIT: '2000',
      SMS_RATE_LIMIT: '2000',
      PUSH_RATE_LIMIT: '2000',
    };
  }

  /** Every accepted call so far, tagged with the stage it was first seen in. */
  calls(): readonly ProviderCall[] {
    this.markStage(Number.MAX_SAFE_INTEGER);
    return this.seen;
  }

  /** How many calls arrived so far: a quiescence probe. */
  total(): number {
    return this.ses.calls.length + this.twilio.calls.length + this.fcm.calls.length;
  }

  /** Tags the calls that arrived since the last mark with `stage`. */
  markStage(stage: number): void {
    for (const call of this.ses.calls.slice(this.counted.ses)) {
      if (call.status !== 200) continue;
      const header = /^X-Mmp-Message-ID:\s*(\S+)/im.exec(call.mime);
      this.seen.push({
        channel: 'email',
        messageId: header?.[1],
        to: call.fields['Destinations.member.1'] ?? /^To:\s*(.+)$/im.exec(call.mime)?.[1]?.trim() ?? '',
        stage,
      });
    }
    for (const call of this.twilio.calls.slice(this.counted.twilio)) {
      if (call.status !== 201) continue;
      this.seen.push({ channel: 'sms', messageId: undefined, to: call.fields['To'] ?? '', stage });
    }
    for (const call of this.fcm.calls.slice(this.counted.fcm)) {
      if (call.status !== 200) continue;
      const data: unknown = Reflect.get(Reflect.get(Object(call.json), 'message') ?? {}, 'data');
      const messageId: unknown =
        typeof data === 'object' && data !== null ? Reflect.get(data, 'messageId') : undefined;
      this.seen.push({
        channel: 'push',
        messageId: typeof messageId === 'string' ? messageId : undefined,
        to: call.token ?? '',
        stage,
      });
    }
    this.counted = {
      ses: this.ses.calls.length,
      twilio: this.twilio.calls.length,
      fcm: this.fcm.calls.length,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([this.ses.stop(), this.twilio.stop(), this.fcm.stop()]);
  }
}

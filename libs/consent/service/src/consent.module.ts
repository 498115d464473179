import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { ConsentController } from './controllers/consent.controller';
import { ConsentConsumer } from './controllers/consent.consumer';
import { TwilioInboundController } from './controllers/twilio-inbound.controller';
import { UnsubscribeController } from './controllers/unsubscribe.controller';
import { consentMigrations } from './migrations';
import { ConsentStore } from './store/consent.store';
import { ConsentBacklogQuery } from './store/consent-backlog.query';
import { ApplyReceiptsUsecase } from './usecases/apply-receipts/apply-receipts.usecase';
import { ReceiveSmsKeywordUsecase } from './usecases/receive-sms-keyword/receive-sms-keyword.usecase';
import { RecordConsentChangesUsecase } from './usecases/record-consent-changes/record-consent-changes.usecase';
import { UnsubscribeUsecase } from './usecases/unsubscribe/unsubscribe.usecase';

/** Consent: consent state and its history, suppression list, unsubscribe, SMS keywords (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'consent', migrations: consentMigrations })],
  controllers: [ConsentController, UnsubscribeController, TwilioInboundController, ConsentConsumer],
  providers: [
    ConsentStore,
    ConsentBacklogQuery,
    RecordConsentChangesUsecase,
    UnsubscribeUsecase,
    ReceiveSmsKeywordUsecase,
    ApplyReceiptsUsecase,
  ],
})
export class ConsentModule {}

import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { ConsentController } from './controllers/consent.controller';
import { consentMigrations } from './migrations';
import { ConsentStore } from './store/consent.store';

/** Consent: consent state and its history, suppression, unsubscribe, erasure (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'consent', migrations: consentMigrations })],
  controllers: [ConsentController],
  providers: [ConsentStore],
})
export class ConsentModule {}

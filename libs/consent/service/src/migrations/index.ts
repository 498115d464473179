import { CreateConsentTables1764000000000 } from './1764000000000-create-consent-tables';

export const consentMigrations = [CreateConsentTables1764000000000];

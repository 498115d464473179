export * from './compose-raw-email';
export * from './ses-receipts';
export * from './ses.plugin';
export * from './sns-signature';

export * from './twilio.plugin';
export * from './twilio-receipts';

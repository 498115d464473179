export * from './receipt-consequence';
export * from './sms-keyword';
export * from './twilio-signature';

export * from './conformance';
export * from './fcm-fake';
export * from './http-fake';
export * from './sample-messages';
export * from './ses-fake';
export * from './twilio-fake';
export * from './sns-fake';

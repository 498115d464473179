/**
 * SMS keywords (SPEC section 6, and the carriers' standard set that Twilio also honours): a
 * message whose whole body is one of them, in any case and with surrounding spaces, changes
 * the sender's SMS consent. Anything else is an ordinary reply and changes nothing.
 */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
];
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES'];

export type KeywordIntent = 'opted_out' | 'opted_in';

export function smsKeywordIntent(body: string): KeywordIntent | undefined {
  const word = body.trim().toUpperCase();
  if (OPT_OUT_KEYWORDS.includes(word)) return 'opted_out';
  if (OPT_IN_KEYWORDS.includes(word)) return 'opted_in';
  return undefined;
}

import { smsKeywordIntent } from './sms-keyword';

describe('SMS keywords', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])(
    '%s opts out, in any case and with surrounding spaces',
    (word) => {
      expect(smsKeywordIntent(word)).toBe('opted_out');
      expect(smsKeywordIntent(`  ${word.toLowerCase()}\n`)).toBe('opted_out');
      expect(smsKeywordIntent(word[0] + word.slice(1).toLowerCase())).toBe('opted_out');
    },
  );

  it.each(['START', 'UNSTOP', 'YES'])('%s opts back in', (word) => {
    expect(smsKeywordIntent(word)).toBe('opted_in');
    expect(smsKeywordIntent(` ${word.toLowerCase()} `)).toBe('opted_in');
  });

  it('leaves ordinary replies alone, even when they contain a keyword', () => {
    for (const body of ['please stop', 'STOP!', 'S TOP', 'yes please', '', 'thanks'])
      expect(smsKeywordIntent(body)).toBeUndefined();
  });
});

import { reasonOf, redactUrl } from './report';

describe('redactUrl', () => {
  it('masks the password of a database URL', () => {
    expect(redactUrl('postgres://app:s3cret@db.internal:5432/platform')).toBe(
      'postgres://app:***@db.internal:5432/platform',
    );
  });

  it('leaves a URL without a password as it is', () => {
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/test')).toBe(
      'postgres://postgres@127.0.0.1:5432/test',
    );
  });

  it('returns text that is not a URL unchanged', () => {
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('reasonOf', () => {
  it('lists the reasons inside an AggregateError, whose own message is empty', () => {
    const refused = new AggregateError([
      new Error('connect ECONNREFUSED ::1:5432'),
      new Error('connect ECONNREFUSED 127.0.0.1:5432'),
    ]);
    expect(reasonOf(refused)).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('uses the message of an ordinary error and the text of anything else', () => {
    expect(reasonOf(new Error('boom'))).toBe('boom');
    expect(reasonOf('plain words')).toBe('plain words');
  });
});

import { AppError } from '@mmp/errors';
import { QueryFailedError } from 'typeorm';

import {
  isConnectionError,
  isTransactionConflict,
  isUniqueViolation,
  pgErrorCode,
  toUnavailable,
} from './pg-errors';

/** What pg raises for a failed statement: an Error carrying the SQLSTATE and details. */
function databaseError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`server said ${code}`), { code, ...extra });
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), {
    code,
    errno: -111,
    syscall: 'connect',
  });
}

describe('pg error helpers', () => {
  describe('isUniqueViolation', () => {
    it('is true for SQLSTATE 23505 raised by pg', () => {
      expect(isUniqueViolation(databaseError('23505'))).toBe(true);
    });

    it('looks through the QueryFailedError TypeORM wraps around the pg error', () => {
      const wrapped = new QueryFailedError(
        'INSERT ...',
        [],
        databaseError('23505', { constraint: 'events_pk' }),
      );
      expect(isUniqueViolation(wrapped)).toBe(true);
      expect(isUniqueViolation(wrapped, 'events_pk')).toBe(true);
      expect(isUniqueViolation(wrapped, 'another_uq')).toBe(false);
    });

    it('is false for other failures and for values that are not errors', () => {
      expect(isUniqueViolation(databaseError('23503'))).toBe(false);
      expect(isUniqueViolation(new Error('plain'))).toBe(false);
      expect(isUniqueViolation(undefined)).toBe(false);
      expect(isUniqueViolation('23505')).toBe(false);
    });
  });

  it('finds the code of an error given as the cause of another', () => {
    expect(pgErrorCode(new Error('outer', { cause: databaseError('40001') }))).toBe('40001');
  });

  it('treats serialization failures and deadlocks as transaction conflicts', () => {
    expect(isTransactionConflict(databaseError('40001'))).toBe(true);
    expect(isTransactionConflict(databaseError('40P01'))).toBe(true);
    expect(isTransactionConflict(databaseError('23505'))).toBe(false);
  });

  describe('isConnectionError', () => {
    it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND'])(
      'is true for the socket error %s',
      (code) => {
        expect(isConnectionError(systemError(code))).toBe(true);
      },
    );

    it.each(['08006', '08001', '57P01', '57P03', '53300'])('is true for SQLSTATE %s', (code) => {
      expect(isConnectionError(databaseError(code))).toBe(true);
    });

    it('is true when pg reports a dropped connection only by its message', () => {
      expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    });

    it('is false for errors in the statement itself', () => {
      expect(isConnectionError(databaseError('23505'))).toBe(false);
      expect(isConnectionError(databaseError('42P01'))).toBe(false);
    });
  });

  describe('toUnavailable', () => {
    it('wraps a refused connection as a retriable AppError "unavailable" that keeps the original as its cause', () => {
      const original = systemError('ECONNREFUSED');
      const wrapped = toUnavailable(original);
      expect(wrapped).toBeInstanceOf(AppError);
      expect(wrapped).toMatchObject({ code: 'unavailable', retriable: true, cause: original });
      expect(wrapped).toHaveProperty('message', expect.stringContaining('ECONNREFUSED'));
    });

    it('wraps a server shutting down (57P01) seen through TypeORM', () => {
      const wrapped = toUnavailable(new QueryFailedError('SELECT 1', [], databaseError('57P01')));
      expect(wrapped).toMatchObject({ code: 'unavailable', retriable: true });
    });

    it('returns any other error unchanged, so bad statements still dead-letter', () => {
      const duplicate = databaseError('23505');
      expect(toUnavailable(duplicate)).toBe(duplicate);
    });

    it('leaves an AppError as it is', () => {
      const notFound = AppError.notFound('no such customer');
      expect(toUnavailable(notFound)).toBe(notFound);
    });
  });
});

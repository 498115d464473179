import { AppError } from '@mmp/errors';

/**
 * Small readers for Postgres failures. pg raises `DatabaseError` with a SQLSTATE `code`; TypeORM
 * wraps it in `QueryFailedError` (copying `code` and keeping the original as `driverError`);
 * socket failures are Node system errors (`ECONNREFUSED`). These helpers look through all three,
 * so callers decide by meaning rather than by which layer the error came from.
 */

/** SQLSTATE codes that callers branch on. https://www.postgresql.org/docs/current/errcodes-appendix.html */
export const PgErrorCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  tooManyConnections: '53300',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  cannotConnectNow: '57P03',
} as const;

/** Node socket errors that mean the server could not be reached or went away. */
const networkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** SQLSTATEs outside class 08 that still mean "the server is not available right now". */
const unavailableSqlStates = new Set<string>([
  PgErrorCode.tooManyConnections,
  PgErrorCode.adminShutdown,
  PgErrorCode.crashShutdown,
  PgErrorCode.cannotConnectNow,
]);

/**
 * pg reports a dropped connection or an exhausted pool only by message, without a code; these
 * fragments come from pg and pg-pool.
 */
const connectionLossMessages = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

function ownProperty(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const property: unknown = Reflect.get(value, key);
  return property;
}

/** The error itself, the driver error TypeORM wrapped, and any `cause` chain, nearest first. */
function* errorChain(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    yield current;
    const driverError = ownProperty(current, 'driverError');
    if (driverError !== undefined && !seen.has(driverError)) yield* errorChain(driverError);
    current = ownProperty(current, 'cause');
  }
}

/** The SQLSTATE (`23505`) or system error code (`ECONNREFUSED`) of the error, if it carries one. */
export function pgErrorCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const code = ownProperty(link, 'code');
    if (typeof code === 'string' && code.length > 0) return code;
  }
  return undefined;
}

/** The violated constraint's name, for telling two unique indexes on one table apart. */
export function pgConstraintName(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const constraint = ownProperty(link, 'constraint');
    if (typeof constraint === 'string') return constraint;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgErrorCode(error) !== PgErrorCode.uniqueViolation) return false;
  return constraint === undefined || pgConstraintName(error) === constraint;
}

export function isForeignKeyViolation(error: unknown): boolean {
  return pgErrorCode(error) === PgErrorCode.foreignKeyViolation;
}

/** A transaction that lost a race (serialization failure, deadlock) and may simply be run again. */
export function isTransactionConflict(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code === PgErrorCode.serializationFailure || code === PgErrorCode.deadlockDetected;
}

/** True when the failure is about reaching the server, not about the statement: retrying later can help. */
export function isConnectionError(error: unknown): boolean {
  for (const link of errorChain(error)) {
    const code = ownProperty(link, 'code');
    if (typeof code === 'string') {
      if (networkErrorCodes.has(code) || code.startsWith('08') || unavailableSqlStates.has(code)) return true;
    }
    const message = ownProperty(link, 'message');
    if (typeof message === 'string' && connectionLossMessages.some((fragment) => message.includes(fragment)))
      return true;
  }
  return false;
}

/**
 * Turns a connection-level failure into AppError `unavailable` (retriable), so the bus retries
 * the message instead of dead-lettering it; any other error is returned unchanged.
 * Use as `catch (error) { throw toUnavailable(error); }`.
 */
export function toUnavailable(error: unknown): unknown {
  if (error instanceof AppError || !isConnectionError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const unavailable = AppError.unavailable(
    `database unavailable: ${reason || pgErrorCode(error) || 'connection failed'}`,
  );
  unavailable.cause = error;
  return unavailable;
}

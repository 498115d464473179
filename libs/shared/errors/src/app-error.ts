/**
 * The one error shape of the platform. Every failure that crosses a boundary (HTTP answer,
 * DLQ header, log line) is an AppError or is wrapped into one, so callers decide by `code`
 * and `retriable` rather than by parsing messages (as kafkajs errors do with `retriable`).
 */
export type ErrorCode =
  | 'validation_failed'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

export interface ErrorDetail {
  /** Where the problem is: a field path such as `properties.total` or `milestones[3].n`. */
  path: string;
  /** The rule that was broken, in words. */
  message: string;
  /** Where in a text body (a program's YAML) the problem is, 1-based, when known. */
  line?: number;
  column?: number;
}

export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly ErrorDetail[],
    /** True when the same call may succeed later (a database or broker outage), false for bad input. */
    readonly retriable: boolean = code === 'unavailable',
  ) {
    super(message);
  }

  static validation(message: string, details: readonly ErrorDetail[]): AppError {
    return new AppError('validation_failed', message, details);
  }

  static notFound(message: string): AppError {
    return new AppError('not_found', message);
  }

  static conflict(message: string): AppError {
    return new AppError('conflict', message);
  }

  static unavailable(message: string): AppError {
    return new AppError('unavailable', message, undefined, true);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
    case 'bad_request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
  }
}

/** Whether retrying may help: AppErrors say so; anything unknown is treated as not retriable. */
export function isRetriable(error: unknown): boolean {
  return error instanceof AppError ? error.retriable : false;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

import { AppError, describeError, ErrorCode, ErrorDetail, httpStatusOf } from '@mmp/errors';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, throwError } from 'rxjs';

/** The one error body of every HTTP answer (SPEC section 3). */
export interface ErrorResponseBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: readonly ErrorDetail[];
  };
}

interface HttpError {
  status: number;
  body: ErrorResponseBody;
}

/** body-parser marks its errors with a `type` (`entity.parse.failed`, `entity.too.large`...). */
function bodyParserFailure(
  exception: HttpException,
): { type: string; limit: number | undefined } | undefined {
  const cause = exception.cause;
  if (typeof cause !== 'object' || cause === null || !('type' in cause) || typeof cause.type !== 'string') {
    return undefined;
  }
  const limit = 'limit' in cause && typeof cause.limit === 'number' ? cause.limit : undefined;
  return { type: cause.type, limit };
}

function describeLimit(bytes: number): string {
  const megabytes = bytes / (1024 * 1024);
  return Number.isInteger(megabytes) ? `${megabytes} MB` : `${bytes} bytes`;
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad_request';
  }
}

function errorOf(code: ErrorCode, message: string, details?: readonly ErrorDetail[]): ErrorResponseBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Turns whatever a request throws into the one error shape: an AppError keeps its code, a
 * Nest or body-parser HTTP error is given the code of its status, anything else is a 500 whose
 * message says nothing about internals (the stack goes to the log instead).
 */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(AppErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    // Should this filter ever see a bus handler's error (inheritAppConfig), it goes back to the
    // bus unchanged, which decides retries and dead letters from the error itself.
    if (host.getType() !== 'http') return throwError(() => exception);

    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { status, body } = this.toHttpError(exception, request);
    if (response.headersSent) {
      // Part of a body is already on the wire: all that is left is to cut it short.
      response.end();
      return;
    }
    response.status(status).json(body);
  }

  private toHttpError(exception: unknown, request: Request): HttpError {
    if (exception instanceof AppError) {
      const status = httpStatusOf(exception.code);
      if (status >= 500) {
        this.logger.error(`${request.method} ${request.originalUrl}: ${exception.message}`, exception.stack);
      }
      return { status, body: errorOf(exception.code, exception.message, exception.details) };
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception, request);
    }
    this.logger.error(
      `${request.method} ${request.originalUrl} failed: ${describeError(exception)}`,
      exception instanceof Error ? exception.stack : undefined,
    );
    return { status: 500, body: errorOf('internal', 'internal server error') };
  }

  private fromHttpException(exception: HttpException, request: Request): HttpError {
    const status = exception.getStatus();
    const failure = bodyParserFailure(exception);
    if (failure?.type === 'entity.parse.failed') {
      return { status: 400, body: errorOf('bad_request', 'request body is not valid JSON') };
    }
    if (failure?.type === 'entity.too.large') {
      const limit = failure.limit === undefined ? 'the limit' : `the ${describeLimit(failure.limit)} limit`;
      return { status: 413, body: errorOf('payload_too_large', `request body is larger than ${limit}`) };
    }
    if (status >= 500) {
      this.logger.error(`${request.method} ${request.originalUrl}: ${exception.message}`, exception.stack);
    }
    return { status, body: errorOf(codeForStatus(status), exception.message) };
  }
}

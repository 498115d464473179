import { AppConfig } from '@mmp/config';
import { AppError } from '@mmp/errors';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { KnownKeys } from './known-keys';
import { matchedRoutePattern } from './route-pattern.util';

/**
 * `/v1/*` is the authenticated API (SPEC section 3). `/v1/webhooks/*` is called by channel
 * providers, which cannot hold our keys and prove themselves by their own signatures; health,
 * metrics and the link routes (`/u/*`, `/t/*`) are opened by people and probes. `/v1/segment/*`
 * takes Segment write keys over HTTP Basic instead, as Segment's own clients send them.
 */
export function requiresApiKey(path: string): boolean {
  // Express matches routes case-insensitively, so `/V1/...` reaches the same handlers.
  const normalized = path.toLowerCase();
  const underV1 = normalized === '/v1' || normalized.startsWith('/v1/');
  return underV1 && !normalized.startsWith('/v1/webhooks/') && !normalized.startsWith('/v1/segment/');
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: KnownKeys;

  constructor(config: AppConfig) {
    this.keys = new KnownKeys(config.apiKeys);
  }

  canActivate(context: ExecutionContext): boolean {
    // Only HTTP calls carry keys. Bus handlers get no global guards today, but would if the
    // microservice were connected with inheritAppConfig, and must not fail then.
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (!requiresApiKey(matchedRoutePattern(request) ?? request.path)) return true;

    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      throw new AppError(
        'unauthorized',
        'missing Authorization header: send "Authorization: Bearer <api key>"',
      );
    }
    const key = BEARER.exec(header)?.[1];
    if (key === undefined) {
      throw new AppError('unauthorized', 'the Authorization header must have the form "Bearer <api key>"');
    }
    if (!this.keys.has(key)) {
      throw new AppError('unauthorized', 'unknown API key');
    }
    return true;
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';

import { AppConfig } from '@mmp/config';
import { AppError } from '@mmp/errors';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { matchedRoutePattern } from './route-pattern.util';

/**
 * `/v1/*` is the authenticated API (SPEC section 3). `/v1/webhooks/*` is called by channel
 * providers, which cannot hold our keys and prove themselves by their own signatures; health,
 * metrics and the link routes (`/u/*`, `/t/*`) are opened by people and probes.
 */
export function requiresApiKey(path: string): boolean {
  // Express matches routes case-insensitively, so `/V1/...` reaches the same handlers.
  const normalized = path.toLowerCase();
  const underV1 = normalized === '/v1' || normalized.startsWith('/v1/');
  return underV1 && !normalized.startsWith('/v1/webhooks/');
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

@Injectable()
export class ApiKeyGuard implements CanActivate {
  // Digests have one length, which timingSafeEqual needs, whatever length a caller sends.
  private readonly keyDigests: readonly Buffer[];

  constructor(config: AppConfig) {
    this.keyDigests = config.apiKeys.map(digest);
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
    if (!this.isKnown(key)) {
      throw new AppError('unauthorized', 'unknown API key');
    }
    return true;
  }

  /** Compares against every key without stopping early, so timing tells nothing about which key nearly matched. */
  private isKnown(key: string): boolean {
    const candidate = digest(key);
    let known = false;
    for (const keyDigest of this.keyDigests) {
      known = timingSafeEqual(keyDigest, candidate) || known;
    }
    return known;
  }
}

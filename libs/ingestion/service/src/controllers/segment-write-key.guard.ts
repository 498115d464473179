import { AppConfig } from '@mmp/config';
import { AppError } from '@mmp/errors';
import { KnownKeys } from '@mmp/server';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';

const BASIC = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i;

/**
 * Segment's authentication: HTTP Basic with a write key as the user name and no password
 * (`Authorization: Basic base64("<write key>:")`), checked against SEGMENT_WRITE_KEYS.
 */
@Injectable()
export class SegmentWriteKeyGuard implements CanActivate {
  private readonly keys: KnownKeys;

  constructor(config: AppConfig) {
    this.keys = new KnownKeys(config.segmentWriteKeys);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.size === 0) {
      throw new AppError('unauthorized', 'the Segment-compatible API is off: SEGMENT_WRITE_KEYS is not set');
    }
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const encoded = header === undefined ? undefined : BASIC.exec(header)?.[1];
    if (encoded === undefined) {
      throw new AppError(
        'unauthorized',
        'send the write key with HTTP Basic: "Authorization: Basic base64(<write key>:)"',
      );
    }
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const writeKey = colon === -1 ? decoded : decoded.slice(0, colon);
    if (!this.keys.has(writeKey)) throw new AppError('unauthorized', 'unknown write key');
    return true;
  }
}

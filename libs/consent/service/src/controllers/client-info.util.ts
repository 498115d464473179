import type { Request } from 'express';

/** Who made an HTTP request, as far as we can tell: kept with a consent change as its proof. */
export function clientInfoOf(req: Request): { ip: string | null; userAgent: string | null } {
  return { ip: req.ip ?? req.socket.remoteAddress ?? null, userAgent: req.get('user-agent') ?? null };
}

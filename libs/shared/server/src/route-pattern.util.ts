import type { Request } from 'express';

/**
 * The route pattern that matched a request (`/v1/customers/:customerId`), or undefined when no
 * route did (an unknown path, a body rejected before routing). The declared pattern, unlike the
 * raw URL, cannot be varied by the caller: it keeps metric labels bounded and path checks exact.
 */
export function matchedRoutePattern(request: Request): string | undefined {
  const route: unknown = request.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string') {
    return `${request.baseUrl}${route.path}`;
  }
  return undefined;
}

import { AppError } from '@mmp/errors';
import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/**
 * One HTTP endpoint's contract: its zod schemas validate the request in the controller and
 * describe it in the OpenAPI document, so the two cannot drift apart. `path` is in OpenAPI form
 * (`/v1/customers/{customerId}`), the same as the controller's route with `:name` spelled `{name}`.
 */
export interface ApiRoute<
  Params extends z.ZodObject = z.ZodObject,
  Query extends z.ZodObject = z.ZodObject,
  Body extends z.ZodType = z.ZodType,
> {
  method: HttpMethod;
  path: string;
  tag: string;
  summary: string;
  description?: string;
  params?: Params;
  query?: Query;
  body?: Body;
  /** Content types of the body when it is not only JSON (a program as YAML). */
  bodyContentTypes?: readonly string[];
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export const API_ROUTE_METADATA = 'mmp:api-route';

/** Names the contract of a controller method, for the OpenAPI document. */
export const Route = (route: ApiRoute): MethodDecorator => SetMetadata(API_ROUTE_METADATA, route);

export function apiRoute<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType>(
  route: ApiRoute<P, Q, B>,
): ApiRoute<P, Q, B> {
  return route;
}

function parsed<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw AppError.validation(
    `invalid ${what}`,
    result.error.issues.map((issue) => ({
      path: `${prefix}${issue.path.map(String).join('.')}`,
      message: issue.message,
    })),
  );
}

/** The request's query string by the route's schema; a bad parameter is 400 naming it. */
export function queryOf<Q extends z.ZodObject>(route: ApiRoute<z.ZodObject, Q>, query: unknown): z.infer<Q> {
  if (!route.query) throw new Error(`${route.method} ${route.path} declares no query`);
  return parsed(route.query, query ?? {}, 'query parameters');
}

/** The request body by the route's schema. */
export function bodyOf<B extends z.ZodType>(
  route: ApiRoute<z.ZodObject, z.ZodObject, B>,
  body: unknown,
): z.infer<B> {
  if (!route.body) throw new Error(`${route.method} ${route.path} declares no body`);
  return parsed(route.body, body ?? {}, 'request body');
}

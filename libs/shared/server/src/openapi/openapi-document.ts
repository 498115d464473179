import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { MODULE_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import { requiresApiKey } from '../api-key.guard';
import { ErrorResponse } from './common-schemas';
import { API_ROUTE_METADATA, type ApiRoute } from './api-route';

type ModuleRef = Type<unknown> | DynamicModule;

function controllersOf(module: ModuleRef): Type<unknown>[] {
  if ('module' in module) {
    return [
      ...(module.controllers ?? []),
      ...((Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module.module) ?? []) as Type<unknown>[]),
    ];
  }
  return (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []) as Type<unknown>[];
}

/** Every route contract declared with `@Route` on the controllers of these modules, in declaration order. */
export function apiRoutesOf(modules: readonly ModuleRef[]): ApiRoute[] {
  const routes: ApiRoute[] = [];
  for (const controller of modules.flatMap(controllersOf)) {
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function') continue;
      const route = Reflect.getMetadata(API_ROUTE_METADATA, handler) as ApiRoute | undefined;
      if (route) routes.push(route);
    }
  }
  return routes;
}

export interface OpenApiInfo {
  title: string;
  version: string;
}

/** The OpenAPI 3.1 document of the given routes, generated from their zod schemas. */
export function openApiDocument(routes: readonly ApiRoute[], info: OpenApiInfo): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'One of the API_KEYS (SPEC section 3).',
  });
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const secured = requiresApiKey(route.path);
    const responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.schema
            ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } }
            : {}),
        },
      ]),
    );
    const errors = {
      ...(route.params || route.query || route.body
        ? {
            400: {
              description: 'Invalid request',
              content: { 'application/json': { schema: ErrorResponse } },
            },
          }
        : {}),
      ...(secured
        ? {
            401: {
              description: 'Missing or unknown API key',
              content: { 'application/json': { schema: ErrorResponse } },
            },
          }
        : {}),
    };
    registry.registerPath({
      method: route.method,
      path: route.path,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(secured ? { security: [{ [bearer.name]: [] }] } : {}),
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body
          ? {
              body: {
                required: true,
                content: Object.fromEntries(
                  (route.bodyContentTypes ?? ['application/json']).map((type) => [
                    type,
                    { schema: route.body! },
                  ]),
                ),
              },
            }
          : {}),
      },
      responses: { ...errors, ...responses },
    });
  }
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Generated from the zod schemas the controllers validate with. Errors are `{ error: { code, message, details? } }`.',
    },
  });
  return document as unknown as Record<string, unknown>;
}

import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;
import { MODULE_METADATA } from '@nestjs/common/constants';
import type { DynamicModule, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { requiresApiKey } from '../api-key.guard';
import { ErrorResponse } from './common-schemas';
import { API_ROUTE_METADATA, type ApiRoute } from './api-route';

type ModuleRef = Type<unknown> | DynamicModule;

const reflector = new Reflector();

function declaredControllers(module: Type<unknown>): Type<unknown>[] {
  const controllers = reflector.get<Type<unknown>[] | undefined>(MODULE_METADATA.CONTROLLERS, module);
  return controllers ?? [];
}

function controllersOf(module: ModuleRef): Type<unknown>[] {
  if ('module' in module) return [...(module.controllers ?? []), ...declaredControllers(module.module)];
  return declaredControllers(module);
}

/** Every route contract declared with `@Route` on the controllers of these modules, in declaration order. */
export function apiRoutesOf(modules: readonly ModuleRef[]): ApiRoute[] {
  const routes: ApiRoute[] = [];
  for (const controller of modules.flatMap(controllersOf)) {
    const prototype: unknown = Reflect.get(controller, 'prototype');
    if (typeof prototype !== 'object' || prototype === null) continue;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler: unknown = Reflect.get(prototype, name);
      if (typeof handler !== 'function') continue;
      const route = reflector.get<ApiRoute | undefined>(API_ROUTE_METADATA, handler);
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
export function openApiDocument(routes: readonly ApiRoute[], info: OpenApiInfo): OpenApiDocument {
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
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Generated from the zod schemas the controllers validate with. Errors are `{ error: { code, message, details? } }`.',
    },
  });
}

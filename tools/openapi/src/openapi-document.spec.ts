import { ALL_SERVICES } from '@mmp/platform-services';
import { processRoutes } from '@mmp/server';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, type Type } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OPENAPI_PATH, openApiJson, platformRoutes } from './openapi-document';

const committedPath = resolve(__dirname, '../../..', OPENAPI_PATH);

/** Every route Nest serves from these controllers, as `METHOD /openapi/{path}`. */
function servedRoutes(controllers: readonly Type<unknown>[]): string[] {
  const served: string[] = [];
  for (const controller of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const prototype = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function' || name === 'constructor') continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (path === undefined || method === undefined) continue;
      const full = `/${[base, path].filter((part) => part && part !== '/').join('/')}`.replace(
        /:(\w+)/g,
        '{$1}',
      );
      served.push(`${RequestMethod[method]} ${full}`);
    }
  }
  return served.sort();
}

describe('the OpenAPI document', () => {
  it('is what the controllers generate (run `npm run openapi` after changing an endpoint)', async () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(await openApiJson());
  });

  it('describes every HTTP route the services serve, and no other', () => {
    const controllers = ALL_SERVICES.flatMap(
      (module) => (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []) as Type<unknown>[],
    );
    const documented = processRoutes([]).map((route) => `${route.method.toUpperCase()} ${route.path}`);
    const served = servedRoutes(controllers).filter((route) => !route.startsWith('GET /docs/assets'));
    expect(
      platformRoutes()
        .map((route) => `${route.method.toUpperCase()} ${route.path}`)
        .sort(),
    ).toEqual([...served, ...documented].sort());
  });

  it('is OpenAPI 3.1 with a bearer scheme on /v1 and none on webhooks', () => {
    const document = JSON.parse(readFileSync(committedPath, 'utf8')) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/v1/customers']?.get?.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/v1/webhooks/ses']?.post?.security).toBeUndefined();
  });
});

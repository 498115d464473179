import { Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { apiRoute, Route, type ApiRoute } from './api-route';
import { openApiDocument, type OpenApiDocument } from './openapi-document';

export const OPENAPI_ROUTES = Symbol('OpenApiRoutes');

export const OPENAPI_INFO = { title: 'Milestone messaging platform', version: '1' } as const;

const openApiJsonRoute = apiRoute({
  method: 'get',
  path: '/openapi.json',
  tag: 'reference',
  summary: 'This OpenAPI 3.1 document: every HTTP endpoint of this process',
  responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
});

const docsRoute = apiRoute({
  method: 'get',
  path: '/docs',
  tag: 'reference',
  summary: 'The interactive API reference (Swagger UI, served from this process)',
  responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
});

/** The files of swagger-ui-dist the reference page loads; nothing else in that folder is served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'text/javascript',
  'swagger-ui-standalone-preset.js': 'text/javascript',
  'favicon-32x32.png': 'image/png',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Milestone messaging platform API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <div id="reference"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/docs-init.js"></script>
  </body>
</html>
`;

// A separate file rather than an inline script, so a strict Content-Security-Policy allows it.
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', deepLinking: true, persistAuthorization: true });\n`;

/** `/openapi.json` and `/docs`: outside /v1, so they need no API key (the "Authorize" button takes one). */
@Controller()
export class OpenApiController {
  private document: OpenApiDocument | undefined;

  constructor(@Inject(OPENAPI_ROUTES) private readonly routes: readonly ApiRoute[]) {}

  @Get('openapi.json')
  @Route(openApiJsonRoute)
  openApi(): OpenApiDocument {
    this.document ??= openApiDocument(this.routes, OPENAPI_INFO);
    return this.document;
  }

  @Get('docs')
  @Route(docsRoute)
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    return DOCS_PAGE;
  }

  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    if (file === 'docs-init.js') {
      response.type('text/javascript').send(DOCS_INIT);
      return;
    }
    const type = ASSETS[file];
    if (!type) throw new NotFoundException();
    response.type(type).sendFile(join(swaggerUiDir(), file));
  }
}

function swaggerUiDir(): string {
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

import { apiRoute, Route } from '@mmp/server';
import { z } from 'zod';
import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Read once: the page is static, its figures come from the analytics API in the browser. */
const PAGE = readFileSync(join(__dirname, '../dashboard/dashboard.html'), 'utf8');
/** echarts is served by the platform itself: the dashboard works offline and loads nothing from a CDN. */
const ECHARTS = require.resolve('echarts/dist/echarts.min.js');

/** The analytics dashboard (no bearer key: the page asks for one and calls /v1 with it). */
@Controller('dashboard')
export class DashboardController {
  @Get()
  @Route(
    apiRoute({
      method: 'get',
      path: '/dashboard',
      tag: 'analytics',
      summary: 'The analytics dashboard page',

      responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
    }),
  )
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' data:; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
  )
  page(): string {
    return PAGE;
  }

  @Get('echarts.min.js')
  @Route(
    apiRoute({
      method: 'get',
      path: '/dashboard/echarts.min.js',
      tag: 'analytics',
      summary: 'The charting library the dashboard loads',

      responses: { 200: { description: 'JavaScript', schema: z.string(), contentType: 'text/javascript' } },
    }),
  )
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  echarts(): StreamableFile {
    return new StreamableFile(createReadStream(ECHARTS));
  }
}

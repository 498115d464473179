import { AppConfig, DEVELOPMENT_API_KEY } from '@mmp/config';
import { Inject, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import express, { type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `npm start` builds it first when stale (apps/console/build-if-stale.mjs). */
export const CONSOLE_DIST = join(__dirname, '../../console/dist');
const DIST_DIR = Symbol('ConsoleDistDir');

/**
 * The operator console at `/` of the one-process platform. Mounted from the init hook, i.e. after
 * every API route and before Nest's not-found handler, so a console file never shadows an API path.
 * Its one dynamic file tells the sign-in page the development key while API_KEYS is unset, so a
 * first run shows data at once; with API_KEYS set it says nothing.
 */
@Module({ providers: [{ provide: DIST_DIR, useValue: CONSOLE_DIST }] })
export class ConsoleStaticModule implements OnModuleInit {
  private readonly logger = new Logger('Console');

  /** The module serving another folder (specs); the class itself serves CONSOLE_DIST. */
  static servingFrom(distDir: string): DynamicModule {
    return { module: ConsoleStaticModule, providers: [{ provide: DIST_DIR, useValue: distDir }] };
  }

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
    @Inject(DIST_DIR) private readonly distDir: string,
  ) {}

  onModuleInit(): void {
    const app = this.adapterHost.httpAdapter;
    const developmentApiKey = this.config.usingDevelopmentApiKey ? DEVELOPMENT_API_KEY : undefined;
    app.get('/console-config.json', (_request: Request, response: Response) => {
      response.json(developmentApiKey ? { developmentApiKey } : {});
    });
    if (!existsSync(join(this.distDir, 'index.html'))) {
      this.logger.warn(`the console is not built (${this.distDir}): run npm run console:build`);
      app.get('/', (_request: Request, response: Response) => {
        response
          .status(503)
          .type('text/plain')
          .send('The console is not built: run `npm run console:build`, then reload.\n');
      });
      return;
    }
    app.use(express.static(this.distDir, { index: 'index.html', fallthrough: true, maxAge: 0 }));
  }
}

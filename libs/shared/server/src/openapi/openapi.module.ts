import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { HealthController } from '../health.controller';
import { MetricsController } from '../metrics.controller';
import { SandboxController } from '../sandbox.controller';
import { apiRoutesOf } from './openapi-document';
import { OPENAPI_ROUTES, OpenApiController } from './openapi.controller';

type ServiceModule = Type<unknown> | DynamicModule;

/** The controllers every process has (PlatformCoreModule's), and this module's own. */
@Module({ controllers: [HealthController, MetricsController, SandboxController, OpenApiController] })
class CoreRoutes {}

/** Every route a process with these service modules serves (sandbox ones included: they are documented as such). */
export function processRoutes(services: readonly ServiceModule[]) {
  return apiRoutesOf([CoreRoutes, ...services]);
}

/** Serves the OpenAPI document of the routes of the given service modules, and the reference page. */
@Module({})
export class OpenApiModule {
  static forRoot(services: readonly ServiceModule[]): DynamicModule {
    return {
      module: OpenApiModule,
      controllers: [OpenApiController],
      providers: [{ provide: OPENAPI_ROUTES, useFactory: () => processRoutes(services) }],
    };
  }
}

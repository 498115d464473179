export { ApiKeyGuard } from './api-key.guard';
export { AppErrorFilter, type ErrorResponseBody } from './app-error.filter';
export { bootstrapService, JSON_BODY_LIMIT_BYTES, type ServiceBootstrapOptions } from './bootstrap-service';
export { type ReadinessAnswer } from './health.controller';
export { PlatformCoreModule, type PlatformCoreOptions } from './platform-core.module';
export * from './readiness';
export { ProgramModule } from './program.module';
export { ProgramSync } from './program-sync';
export { runServiceProcess, startServices, type ServiceProcessOptions } from './run-service';

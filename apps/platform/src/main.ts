import 'reflect-metadata';
import { runServiceProcess } from '@mmp/server';
import { ALL_SERVICES } from '@mmp/platform-services';
import { ConsoleStaticModule } from './console-static.module';

// `npm start`: all six services in one process on PORT (SPEC section 3), on an embedded Postgres
// and the in-process bus unless DATABASE_URL / KAFKA_BROKERS name real ones; the console at `/`.
runServiceProcess({
  name: 'platform',
  services: [...ALL_SERVICES, ConsoleStaticModule],
  env: process.env,
}).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

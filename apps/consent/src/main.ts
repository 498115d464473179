import 'reflect-metadata';
import { ConsentModule } from '@mmp/consent-service';
import { runServiceProcess } from '@mmp/server';

// The consent service alone (nx serve consent); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'consent', services: [ConsentModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

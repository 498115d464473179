import 'reflect-metadata';
import { JourneysModule } from '@mmp/journeys-service';
import { runServiceProcess } from '@mmp/server';

// The journeys service alone (nx serve journeys); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'journeys', services: [JourneysModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

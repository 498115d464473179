import 'reflect-metadata';
import { IngestionModule } from '@mmp/ingestion-service';
import { runServiceProcess } from '@mmp/server';

// The ingestion service alone (nx serve ingestion); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'ingestion', services: [IngestionModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

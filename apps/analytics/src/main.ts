import 'reflect-metadata';
import { AnalyticsModule } from '@mmp/analytics-service';
import { runServiceProcess } from '@mmp/server';

// The analytics service alone (nx serve analytics); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'analytics', services: [AnalyticsModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

import 'reflect-metadata';
import { MilestonesModule } from '@mmp/milestones-service';
import { runServiceProcess } from '@mmp/server';

// The milestones service alone (nx serve milestones); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'milestones', services: [MilestonesModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

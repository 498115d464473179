import 'reflect-metadata';
import { DeliveryModule } from '@mmp/delivery-service';
import { runServiceProcess } from '@mmp/server';

// The delivery service alone (nx serve delivery); npm start runs all six in one process (apps/platform).
runServiceProcess({ name: 'delivery', services: [DeliveryModule], env: process.env }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

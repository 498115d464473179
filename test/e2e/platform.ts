import type { MessageBus } from '@mmp/bus';
import type { AppConfig } from '@mmp/config';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { startServices } from '@mmp/server';
import { ALL_SERVICES } from '@mmp/platform-services';

/** All six services in this process, on the given config and bus, with the shipped program. */
export async function startPlatformForTest(config: AppConfig, bus: MessageBus) {
  const app = await startServices({
    name: 'platform',
    services: ALL_SERVICES,
    config,
    bus,
    program: new ProgramStore(loadProgramFromDir(config.programDir)),
  });
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  return { app, baseUrl };
}

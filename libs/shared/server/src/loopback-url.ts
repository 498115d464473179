import type { INestApplication } from '@nestjs/common';

/**
 * Where a client on this machine reaches a listening app: `getUrl()` names the address the
 * server is bound to (`[::1]`, `0.0.0.0`), which is not always one to connect to.
 */
export async function loopbackUrlOf(app: INestApplication): Promise<string> {
  return (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
}

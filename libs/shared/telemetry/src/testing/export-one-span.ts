// Run in a child process by telemetry.spec.ts: jest's module sandbox cannot load the OTLP
// exporter's HTTP agent (a dynamic import), so real exporting is only observable outside it.
import { subscribe } from 'node:diagnostics_channel';
import { writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { startTelemetry } from '../telemetry';
import { withSpan } from '../with-span';

/** The file descriptor the spec reads connection attempts from, one `address:port` a line. */
const CONNECTIONS_FD = 3;

/**
 * Reports every TCP connection the process attempts, refused ones included, so that the spec
 * can tell "sent nothing anywhere" without listening on a fixed port (the SDK's default 4318
 * may be taken by another run or a developer's collector).
 */
function reportConnectionAttempts(): void {
  subscribe('net.client.socket', (message) => {
    const socket: unknown =
      typeof message === 'object' && message !== null ? Reflect.get(message, 'socket') : null;
    if (!(socket instanceof Socket)) return;
    socket.on('connectionAttempt', (address: string, port: number) =>
      writeSync(CONNECTIONS_FD, `${address}:${port}\n`),
    );
  });
}

async function main(): Promise<void> {
  reportConnectionAttempts();
  const telemetry = startTelemetry({ serviceName: 'export-one-span' });
  await withSpan('work', async () => undefined);
  await telemetry.shutdown();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});

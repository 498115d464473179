import { getContainerRuntimeClient } from 'testcontainers';

import type { Environment } from './report';

/**
 * Whether to provision with testcontainers: a container runtime (Docker, Podman, Colima) answers
 * and MMP_TEST_CONTAINERS is not `off` (for a developer with Docker who prefers the faster
 * embedded Postgres and kcat mock). testcontainers fails within milliseconds when no runtime is
 * configured, but a socket that accepts and never replies would hang it, hence the bound. The
 * runtime is asked once per process: Postgres and Kafka provisioning share the answer.
 */
let runtimeAnswer: Promise<boolean> | undefined;

export async function isContainerRuntimeAvailable(
  env: Environment = process.env,
  timeoutMs = 3_000,
): Promise<boolean> {
  if (env.MMP_TEST_CONTAINERS?.trim().toLowerCase() === 'off') return false;
  runtimeAnswer ??= probe(timeoutMs);
  return runtimeAnswer;
}

async function probe(timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      getContainerRuntimeClient().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

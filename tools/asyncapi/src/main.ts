import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ASYNCAPI_PATH, asyncApiYaml } from './asyncapi-document';

// Rewrites docs/asyncapi.yaml from the contracts; run after changing a schema and commit the result.
async function main(): Promise<void> {
  writeFileSync(resolve(__dirname, '../../..', ASYNCAPI_PATH), await asyncApiYaml());
  process.stdout.write(`wrote ${ASYNCAPI_PATH}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});

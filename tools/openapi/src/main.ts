import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OPENAPI_PATH, openApiJson } from './openapi-document';

// Rewrites docs/openapi.json from the controllers' route schemas; run after changing an endpoint and commit the result.
async function main(): Promise<void> {
  writeFileSync(resolve(__dirname, '../../..', OPENAPI_PATH), await openApiJson());
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});

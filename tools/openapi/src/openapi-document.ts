import { ALL_SERVICES } from '@mmp/platform-services';
import { OPENAPI_INFO, openApiDocument, processRoutes } from '@mmp/server';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';

export const OPENAPI_PATH = 'docs/openapi.json';

/** The routes the one-process platform serves: every service's and every process's own. */
export function platformRoutes() {
  return processRoutes(ALL_SERVICES);
}

/** docs/openapi.json as `npm run openapi` writes it: what `/openapi.json` serves on `npm start`, formatted. */
export async function openApiJson(): Promise<string> {
  const text = JSON.stringify(openApiDocument(platformRoutes(), OPENAPI_INFO));
  const file = resolve(__dirname, '../../..', OPENAPI_PATH);
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

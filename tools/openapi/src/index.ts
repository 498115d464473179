export { OPENAPI_PATH, openApiJson, platformRoutes } from './openapi-document';

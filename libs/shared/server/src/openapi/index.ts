export {
  apiRoute,
  bodyOf,
  queryOf,
  Route,
  API_ROUTE_METADATA,
  type ApiRoute,
  type HttpMethod,
} from './api-route';
export {
  decodeCursor,
  encodeCursor,
  ErrorResponse,
  pageFrom,
  pageOf,
  PageQuery,
  PAGE_LIMIT_DEFAULT,
  PAGE_LIMIT_MAX,
  type Page,
} from './common-schemas';
export { apiRoutesOf, openApiDocument, type OpenApiInfo } from './openapi-document';
export { OpenApiModule, processRoutes } from './openapi.module';
export { OPENAPI_INFO } from './openapi.controller';

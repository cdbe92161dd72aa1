/** What every HTTP door (express, fastify, hono) re-exports, so each needs one import only. */
export type { AuthClaims, AuthRegistry } from '../authz/request-claims.ts';
export {
  type BearerChallenge,
  bearerChallenge,
  bearerToken,
  type HttpErrorOutcome,
  type HttpErrorResponse,
  type HttpErrorResponseOptions,
  httpErrorResponse,
  type TokenVerifier,
  type VerifierInput,
} from './http.ts';
export {
  PROTECTED_RESOURCE_WELL_KNOWN,
  type ProtectedResource,
  type ProtectedResourceMetadata,
  type ProtectedResourceOptions,
  protectedResourceMetadataUrl,
} from './protected-resource.ts';

export type { AlbClaims, AlbTokenHeader } from './alb/claims.ts';
export { AlbKeyCache, type AlbKeyCacheOptions } from './alb/key-cache.ts';
export {
  type AccessTokenVerifier,
  ALB_HEADERS,
  type AlbIdentity,
  AlbVerifier,
  type AlbVerifierConfig,
  type AlbVerifierOptions,
  type HeaderSource,
} from './alb/verifier.ts';
export type { AuthClaims, AuthRegistry } from './authz/request-claims.ts';
export {
  type ClaimsPredicate,
  type Match,
  type PredicateOptions,
  type RequireOptions,
  requireGroups,
  requirePredicate,
  requireScopes,
} from './authz/require.ts';
export { groupsOf, scopesOf } from './authz/rights.ts';
export { defineRoles, type RoleMap, type Roles } from './authz/roles.ts';
export {
  type AuthzRule,
  anyOf,
  authorize,
  type ClaimsRule,
  declareRule,
  maxAuthAgeOf,
  type RuleFlags,
  readsRequest,
} from './authz/rule.ts';
export { type AcrLevel, maxAuthAge, requireAcr, requireAmr } from './authz/step-up.ts';
export {
  CLIENT_MESSAGES,
  CognitoJwtError,
  type CognitoJwtErrorOptions,
  ConfigError,
  clientMessage,
  ERROR_STATUS,
  type ErrorCode,
  ScopeMissingError,
  StepUpRequiredError,
  TokenExpiredError,
} from './errors.ts';
export type { ClockOffset } from './keys/clock-offset.ts';
export {
  type FetchReason,
  JWKS_EVENTS,
  type JwksEventMessages,
  type JwksEventName,
  onJwksEvent,
} from './keys/events.ts';
export { JwksFetchError } from './keys/fetch-jwks.ts';
export type { Jwk, Jwks, VerificationKey } from './keys/jwk.ts';
export {
  JwksCache,
  type JwksCacheOptions,
  type JwksSnapshot,
  type JwksSnapshotStore,
  type KeySetInfo,
  type KeySetState,
  type RequestContext,
} from './keys/jwks-cache.ts';
export type {
  CognitoAccessTokenClaims,
  CognitoClaims,
  CognitoCommonClaims,
  CognitoIdTokenClaims,
  DecodedToken,
  JwtHeader,
  TokenUse,
} from './token/claims.ts';
export { DEFAULT_MAX_TOKEN_LENGTH, type DecodeOptions, decodeUnverified } from './token/decode.ts';
export type { ClaimSpec, ClaimsSchema, ClaimTypeName, SchemaClaims } from './verify/claims-schema.ts';
export type { ClaimsFor, VerifiedClaims, VerifierConfig, WithSchema } from './verify/config.ts';
export { DEFAULT_ACR_LEVELS } from './verify/facts.ts';
export {
  CUSTOM_ATTRIBUTE_MAX_LENGTH,
  type GroupsClaim,
  type GroupsFormat,
  type GroupsSource,
  parseGroups,
} from './verify/groups-claim.ts';
export {
  IDENTITY_POOL_ISSUER,
  IDENTITY_POOL_JWKS_URI,
  type IdentityPoolClaims,
  IdentityPoolVerifier,
  type IdentityPoolVerifierConfig,
  type IdentityPoolVerifierOptions,
} from './verify/identity-pool.ts';
export { CognitoVerifier, type VerifierOptions } from './verify/verifier.ts';

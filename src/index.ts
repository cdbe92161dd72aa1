export {
  CognitoJwtError,
  type CognitoJwtErrorOptions,
  ConfigError,
  ERROR_STATUS,
  type ErrorCode,
  TokenExpiredError,
} from './errors.ts';
export { JWKS_EVENTS, type JwksEventName } from './keys/events.ts';
export { JwksFetchError } from './keys/fetch-jwks.ts';
export type { Jwk, Jwks, VerificationKey } from './keys/jwk.ts';
export {
  JwksCache,
  type JwksCacheOptions,
  type JwksSnapshot,
  type KeySetInfo,
  type KeySetState,
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
export type { ClaimsFor, VerifiedClaims, VerifierConfig } from './verify/config.ts';
export { CognitoVerifier, type VerifierOptions } from './verify/verifier.ts';

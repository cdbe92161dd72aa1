/**
 * `cognito-jwt/alb`: verify the `x-amzn-oidc-data` header an Application Load Balancer adds to
 * the requests it authenticated, in a server, a framework adapter or a Lambda target.
 */

export { type AlbArn, parseAlbArn } from './arn.ts';
export { decodePaddedBase64url } from './base64url.ts';
export type { AlbClaims, AlbTokenHeader } from './claims.ts';
export { AlbKeyCache, type AlbKeyCacheOptions, isAlbKid } from './key-cache.ts';
export { type ALBEvent, type ALBResult, albErrorResult, verifyAlbEvent, withAlbIdentity } from './lambda.ts';
export { DEFAULT_MAX_ALB_TOKEN_LENGTH, type ParsedAlbToken, parseAlbToken } from './parse.ts';
export {
  type AccessTokenVerifier,
  ALB_HEADERS,
  type AlbIdentity,
  AlbVerifier,
  type AlbVerifierConfig,
  type AlbVerifierOptions,
  type HeaderSource,
  readHeader,
} from './verifier.ts';

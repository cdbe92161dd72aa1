/**
 * `cognito-jwt/testing`: keys, a JWKS server on loopback, and Cognito-shaped tokens for tests.
 * Tokens minted here are signed by keys made in your test, never by Cognito.
 */

export {
  type AlbKeyServer,
  type AlbSignatureOptions,
  type AlbTestKey,
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_CLIENT_ID,
  DEFAULT_TEST_ALB_ISSUER,
  generateAlbKeyPair,
  type MintAlbOptions,
  mintAlbToken,
  signAlbJwt,
  startAlbKeyServer,
} from './alb.ts';
export { type JwksServer, type JwksServerOptions, startJwksServer } from './jwks-server.ts';
export { buildJwks, generateKeyPair, type KeyPairOptions, type TestKeyPair } from './keys.ts';
export {
  DEFAULT_TEST_CLIENT_ID,
  DEFAULT_TEST_POOL_ID,
  type MintOptions,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
  mintRefreshToken,
  signJwt,
} from './mint.ts';

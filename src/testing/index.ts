/**
 * `cognito-jwt/testing`: keys, a JWKS server on loopback, and Cognito-shaped tokens for tests.
 * Tokens minted here are signed by keys made in your test, never by Cognito.
 */

export { type JwksServer, type JwksServerOptions, startJwksServer } from './jwks-server.ts';
export { buildJwks, generateKeyPair, type TestKeyPair } from './keys.ts';
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

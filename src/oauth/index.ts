/**
 * `cognito-jwt/oauth`: talk to a user pool's token endpoint (`/oauth2/token`, `/oauth2/revoke`).
 * Refresh tokens are not JWTs and cannot be verified locally; they are exchanged here.
 * No runtime dependency: the global `fetch` and `node:crypto`.
 *
 * ```ts
 * import { TokenEndpointClient } from 'cognito-jwt/oauth';
 *
 * const client = new TokenEndpointClient({ domain: 'myapp.auth.us-east-1.amazoncognito.com', clientId, clientSecret });
 * const { accessToken } = await client.clientCredentials({ scopes: ['orders/read'] }); // cached, single-flight
 * const tokens = await client.refresh(refreshToken);
 * await client.revoke(refreshToken);
 * ```
 */

export {
  type ClientCredentialsOptions,
  type CodeExchange,
  type CodeExchangeTokens,
  type RefreshedTokens,
  type RevokeOptions,
  TokenEndpointClient,
} from './client.ts';
export type { ClientAuthMethod, TokenEndpointClientOptions } from './config.ts';
export { TokenEndpointError, type TokenEndpointErrorOptions } from './errors.ts';
export { secretHash } from './secret-hash.ts';
export {
  type CurrentTokens,
  type SessionTokens,
  type SessionTokenVerifier,
  TokenSession,
  type TokenSessionEvents,
  type TokenSessionOptions,
} from './session.ts';
export type { ClientCredentialsToken } from './token-cache.ts';

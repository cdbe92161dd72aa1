/**
 * `cognito-jwt/session`: browser sign-in with Cognito's managed login, and the session that keeps
 * it: authorization code with PKCE (S256), `state` and `nonce`; tokens sealed with AES-256-GCM in
 * HttpOnly, `__Host-` cookies; refresh before expiry; sign-out at Cognito and across the fleet.
 * Framework-free; `cognitoSignIn` in `cognito-jwt/express`, `/fastify` and `/hono` mounts it.
 *
 * ```ts
 * import { CognitoSession } from 'cognito-jwt/session';
 *
 * const session = new CognitoSession({
 *   domain: 'myapp.auth.eu-west-1.amazoncognito.com',
 *   clientId: 'app-client-id',
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   appOrigin: 'https://app.example.com',
 *   secrets: [process.env.SESSION_SECRET!],
 * });
 * ```
 */

export type { RedisClusterOptions } from '../net/redis-connection.ts';
export type { SessionOptions, SessionPaths, SessionVerifier } from './config.ts';
export { CHUNK_VALUE_LENGTH, MAX_COOKIE_BYTES } from './cookies.ts';
export { SessionError } from './errors.ts';
export {
  openRedisSessionStore,
  type RedisSessionStoreOptions,
  SESSION_REDIS_PACKAGE_MISSING,
} from './redis.ts';
export { MIN_SECRET_LENGTH } from './seal.ts';
export {
  CognitoSession,
  type SessionAnswer,
  type SessionRead,
  type SessionRequest,
  type SignInOptions,
} from './session.ts';
export type { SessionStore, StoredSession, StoredSessionSummary } from './store.ts';

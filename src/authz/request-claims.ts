import type { CognitoClaims } from '../token/claims.ts';

/**
 * Narrows the claims the framework adapters put on a request (`req.auth`, `request.auth`,
 * `c.get('auth')`). Empty by default: requests carry {@link CognitoClaims}, the union of ID and
 * access token claims. An API that only accepts access tokens can say so once, and every
 * handler sees `scope`, `client_id` and `username` without narrowing or casts:
 *
 * ```ts
 * import type { CognitoAccessTokenClaims } from 'cognito-jwt';
 * declare module 'cognito-jwt' {
 *   interface AuthRegistry {
 *     claims: CognitoAccessTokenClaims;
 *   }
 * }
 * ```
 *
 * The adapters then accept only verifiers that return those claims (a `CognitoVerifier` with
 * `tokenUse: 'access'`), so the declaration cannot drift from what is verified.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an extension point, filled in by module augmentation.
export interface AuthRegistry {}

/** The claims on a request: {@link CognitoClaims}, or what {@link AuthRegistry} narrows them to. */
export type AuthClaims = AuthRegistry extends { claims: infer Claims extends CognitoClaims }
  ? Claims
  : CognitoClaims;

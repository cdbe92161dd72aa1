import { createHmac } from 'node:crypto';
import { ConfigError } from '../errors.ts';

/**
 * The `SECRET_HASH` that Cognito's API flows (`InitiateAuth`, `SignUp`, `ForgotPassword`, ...)
 * require from app clients with a secret: `Base64(HMAC-SHA256(clientSecret, username + clientId))`.
 *
 * For `REFRESH_TOKEN_AUTH` the username must be the user's real username, the
 * `cognito:username` claim of the ID token (`username` in the access token), which is often a
 * UUID when users sign in with their email; the email they typed gives
 * "Unable to verify secret hash for client". The token endpoint (`TokenEndpointClient.refresh`)
 * needs no secret hash at all.
 *
 * ```ts
 * const SECRET_HASH = secretHash(idTokenClaims['cognito:username'], clientId, clientSecret);
 * await cognito.send(new InitiateAuthCommand({
 *   AuthFlow: 'REFRESH_TOKEN_AUTH',
 *   ClientId: clientId,
 *   AuthParameters: { REFRESH_TOKEN: refreshToken, SECRET_HASH },
 * }));
 * ```
 */
export function secretHash(username: string, clientId: string, clientSecret: string): string {
  for (const [name, value] of [
    ['username', username],
    ['clientId', clientId],
    ['clientSecret', clientSecret],
  ] as const) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new ConfigError(`secretHash: ${name} must be a non-empty string, got ${typeof value}`);
    }
  }
  return createHmac('sha256', clientSecret)
    .update(username + clientId, 'utf8')
    .digest('base64');
}

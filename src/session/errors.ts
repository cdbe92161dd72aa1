import { CognitoJwtError, type CognitoJwtErrorOptions, type ErrorCode } from '../errors.ts';

/**
 * A refusal of the session door. `cookies` are the `Set-Cookie` values to send with the answer
 * (they clear a cookie that can no longer be used), so an adapter needs no knowledge of them.
 *
 * ```ts
 * try {
 *   await session.read(request);
 * } catch (err) {
 *   if (err instanceof SessionError) for (const cookie of err.cookies) res.append('set-cookie', cookie);
 *   throw err;
 * }
 * ```
 */
export class SessionError extends CognitoJwtError {
  /** `Set-Cookie` values to send with the answer to this error. */
  readonly cookies: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    cookies: readonly string[] = [],
    options: CognitoJwtErrorOptions = {},
  ) {
    super(code, message, options);
    this.cookies = cookies;
  }
}

import { CognitoJwtError } from '../errors.ts';

/**
 * The exit codes of the `cognito-jwt` command; scripts can rely on them.
 *
 * ```sh
 * cognito-jwt verify "$TOKEN" --user-pool-id "$POOL" --client-id "$CLIENT" --token-use access
 * case $? in 0) echo valid ;; 1) echo "invalid token" ;; 2) echo "usage" ;; 3) echo "keys unavailable" ;; esac
 * ```
 */
export const EXIT = {
  /** The command did what was asked (for `verify`: the token is valid). */
  ok: 0,
  /** The token (or, for `keys show`, a key) is invalid: HTTP 401/403 territory. */
  invalid: 1,
  /** A usage or configuration mistake: a missing option, an unreadable file, a bad value. */
  usage: 2,
  /** The keys could not be fetched or hold no usable key: HTTP 503 territory. */
  keysUnavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code for a failure, from the error's HTTP status: 401/403 → 1, 503 → 3, anything else
 * (configuration errors, and errors that are not a {@link CognitoJwtError}) → 2.
 *
 * ```ts
 * process.exitCode = exitCodeFor(new CognitoJwtError('ERR_TOKEN_EXPIRED', 'expired')); // 1
 * ```
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (!(error instanceof CognitoJwtError)) return EXIT.usage;
  if (error.status === 401 || error.status === 403) return EXIT.invalid;
  if (error.status === 503) return EXIT.keysUnavailable;
  return EXIT.usage;
}

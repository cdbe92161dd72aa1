import type { CognitoJwtError } from '../errors.ts';
import type { ClockOffset } from '../keys/clock-offset.ts';

/**
 * An offset beyond this (after its uncertainty is taken off) is worth naming when it explains a
 * time refusal; smaller ones are ordinary drift and 1 s `Date` resolution.
 */
export const CLOCK_OFFSET_THRESHOLD_MS = 5_000;

/**
 * When a token is refused as expired or not yet valid and this host's clock offset (measured from
 * the JWKS server's `Date`) explains it, add so to the error's message: the server-side text, for
 * logs. The client never sees it (clients get `clientMessage(code)`, fixed per code).
 *
 * ```ts
 * explainByClockOffset(error, claims, Date.now(), 0, cache.inspect(jwksUri).clockOffset);
 * ```
 */
export function explainByClockOffset(
  error: unknown,
  claims: object,
  nowMs: number,
  toleranceSeconds: number,
  offset: ClockOffset | undefined,
): void {
  if (offset === undefined) return;
  const { code } = error as CognitoJwtError;
  if (code !== 'ERR_TOKEN_EXPIRED' && code !== 'ERR_TOKEN_NOT_YET_VALID') return;
  const { exp, nbf } = claims as { exp?: unknown; nbf?: unknown };
  // The server's time, as close as can be told: this host's, less the offset.
  const serverNowSeconds = (nowMs - offset.offsetMs) / 1000;
  const ahead = offset.offsetMs - offset.uncertaintyMs > CLOCK_OFFSET_THRESHOLD_MS;
  const behind = -offset.offsetMs - offset.uncertaintyMs > CLOCK_OFFSET_THRESHOLD_MS;
  let explained: string | undefined;
  if (
    code === 'ERR_TOKEN_EXPIRED' &&
    ahead &&
    typeof exp === 'number' &&
    serverNowSeconds < exp + toleranceSeconds
  ) {
    explained = "by the JWKS server's clock it has not expired yet";
  } else if (
    code === 'ERR_TOKEN_NOT_YET_VALID' &&
    behind &&
    typeof nbf === 'number' &&
    nbf <= serverNowSeconds + toleranceSeconds
  ) {
    explained = "by the JWKS server's clock it is already valid";
  }
  if (explained === undefined) return;
  const seconds = Math.round(Math.abs(offset.offsetMs) / 1000);
  const uncertainty = Math.max(1, Math.round(offset.uncertaintyMs / 1000));
  (error as Error).message +=
    `; this host's clock is ${seconds} s ${ahead ? 'ahead of' : 'behind'} the JWKS server's (± ${uncertainty} s, ` +
    `from its Date header), more than the ${CLOCK_OFFSET_THRESHOLD_MS / 1000} s threshold, and ${explained}: ` +
    "synchronise this host's clock (NTP)";
}

import { decodeUnverified } from '../token/decode.ts';

/** When tokens stop being valid and when to renew them, in local epoch milliseconds. */
export interface TokenExpiry {
  readonly expiresAt: number;
  /** `expiresAt` minus the safety margin, the margin being at most half the tokens' lifetime. */
  readonly renewAt: number;
}

/**
 * Tokens the endpoint just issued. Their lifetime is the shortest of `expires_in` and each JWT's
 * `exp - iat`, counted from `receivedAt` (taken before the request) on the local clock, so a
 * local clock that is off does not shorten or stretch the cache.
 */
export function issuedTokenExpiry(
  tokens: readonly (string | undefined)[],
  expiresIn: number,
  receivedAt: number,
  marginMs: number,
): TokenExpiry {
  let lifetime = expiresIn * 1000;
  for (const token of tokens) {
    const times = token === undefined ? undefined : readTimes(token);
    if (times?.exp !== undefined && times.iat !== undefined) {
      lifetime = Math.min(lifetime, (times.exp - times.iat) * 1000);
    }
  }
  return withMargin(receivedAt + Math.max(0, lifetime), lifetime, marginMs);
}

/**
 * Tokens received earlier (handed to a session): only their `exp` tells, read against the local
 * clock. Without any `exp` (an opaque token) they count as expired, so the first use refreshes.
 */
export function heldTokenExpiry(
  tokens: readonly (string | undefined)[],
  now: number,
  marginMs: number,
): TokenExpiry {
  let expiresAt = Number.POSITIVE_INFINITY;
  let lifetime = Number.POSITIVE_INFINITY;
  for (const token of tokens) {
    const times = token === undefined ? undefined : readTimes(token);
    if (times?.exp === undefined) continue;
    expiresAt = Math.min(expiresAt, times.exp * 1000);
    if (times.iat !== undefined) lifetime = Math.min(lifetime, (times.exp - times.iat) * 1000);
  }
  if (expiresAt === Number.POSITIVE_INFINITY) return { expiresAt: now, renewAt: now };
  return withMargin(expiresAt, Number.isFinite(lifetime) ? lifetime : expiresAt - now, marginMs);
}

// Capping the margin at half the lifetime keeps tokens that live shorter than the margin reusable
// instead of fetching a new one on every call.
function withMargin(expiresAt: number, lifetime: number, marginMs: number): TokenExpiry {
  return { expiresAt, renewAt: expiresAt - Math.min(marginMs, Math.max(0, lifetime) / 2) };
}

/** `exp` and `iat`, decoded without verification: they only schedule renewal, they grant nothing. */
function readTimes(token: string): { exp?: number; iat?: number } | undefined {
  try {
    const { payload } = decodeUnverified<{ exp?: unknown; iat?: unknown }>(token);
    return {
      ...(typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? { exp: payload.exp } : {}),
      ...(typeof payload.iat === 'number' && Number.isFinite(payload.iat) ? { iat: payload.iat } : {}),
    };
  } catch {
    return undefined; // an opaque token: only expires_in tells
  }
}

/**
 * This host's clock against the JWKS server's, from the `Date` header of each JWKS answer.
 *
 * ```ts
 * const offset = estimateClockOffset('Tue, 01 Dec 2026 10:00:00 GMT', null, sentAt, receivedAt);
 * if (offset && Math.abs(offset.offsetMs) > 5_000) console.warn(`clock off by ${offset.offsetMs} ms`);
 * ```
 */

/**
 * How far this host's clock is from a server's: `offsetMs` is positive when this host's clock is
 * ahead (tokens look older here than they are), negative when it is behind; the true offset is
 * within `offsetMs ± uncertaintyMs`.
 *
 * ```ts
 * const { offsetMs, uncertaintyMs } = cache.inspect(jwksUri).clockOffset ?? { offsetMs: 0, uncertaintyMs: 0 };
 * ```
 */
export interface ClockOffset {
  readonly offsetMs: number;
  readonly uncertaintyMs: number;
  /** This host's time when the answer came (epoch milliseconds). */
  readonly measuredAt: number;
}

/**
 * The offset from one answer. `Date` says when the origin made it, to the second (its true time
 * is in [Date, Date + 1 s)); a cache in front of the origin adds `Age`, whole seconds it held the
 * answer. The server's clock read that somewhere between sending and receiving on ours, so the
 * midpoints are compared and half the round trip is added to the uncertainty. `undefined` when
 * there is no usable `Date`.
 */
export function estimateClockOffset(
  date: string | null,
  age: string | null,
  sentAt: number,
  receivedAt: number,
): ClockOffset | undefined {
  if (date === null) return undefined;
  const serverDate = Date.parse(date);
  if (!Number.isFinite(serverDate)) return undefined;
  const ageSeconds = age !== null && /^\d{1,9}$/.test(age.trim()) ? Number(age.trim()) : 0;
  // Date and Age are both truncated to the second: each adds half a second of doubt around its midpoint.
  const serverMid = serverDate + ageSeconds * 1000 + (ageSeconds > 0 ? 1000 : 500);
  const localMid = (sentAt + receivedAt) / 2;
  return {
    offsetMs: Math.round(localMid - serverMid),
    uncertaintyMs: Math.ceil((ageSeconds > 0 ? 1000 : 500) + (receivedAt - sentAt) / 2),
    measuredAt: receivedAt,
  };
}

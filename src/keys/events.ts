import { channel, type EventChannel, subscribe, unsubscribe } from '#platform';
import type { CognitoJwtError, ErrorCode } from '../errors.ts';

/**
 * The `node:diagnostics_channel` names the JWKS cache publishes on. Publishing costs nothing
 * while nobody subscribes; every message carries the `jwksUri` it is about.
 *
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { JWKS_EVENTS, type JwksEventMessages } from 'cognito-jwt';
 *
 * subscribe(JWKS_EVENTS.fetchFailure, (message) => {
 *   const { jwksUri, httpStatus, durationMs, code } = message as JwksEventMessages['fetchFailure'];
 *   console.warn(`JWKS ${jwksUri} failed (${code}, HTTP ${httpStatus ?? '-'}) after ${durationMs.toFixed(0)} ms`);
 * });
 * ```
 */
export const JWKS_EVENTS = {
  fetchStart: 'cognito-jwt:jwks:fetch-start',
  fetchSuccess: 'cognito-jwt:jwks:fetch-success',
  fetchFailure: 'cognito-jwt:jwks:fetch-failure',
  keysAdded: 'cognito-jwt:jwks:keys-added',
  keysRemoved: 'cognito-jwt:jwks:keys-removed',
  keyRejected: 'cognito-jwt:jwks:key-rejected',
  kidMiss: 'cognito-jwt:jwks:kid-miss',
  cooldownSkip: 'cognito-jwt:jwks:cooldown-skip',
  staleServed: 'cognito-jwt:jwks:stale-served',
  backoff: 'cognito-jwt:jwks:backoff',
  clockOffset: 'cognito-jwt:jwks:clock-offset',
  storeFailure: 'cognito-jwt:jwks:store-failure',
} as const;

/** One of the keys of {@link JWKS_EVENTS}, e.g. `'fetchFailure'`. */
export type JwksEventName = keyof typeof JWKS_EVENTS;

/**
 * Why a fetch started: the first `load` of a key set (or one whose keys can no longer be used),
 * an explicit `refresh()`, the keys passing their `max-age`, or a token naming an unknown kid.
 *
 * ```ts
 * const reason: FetchReason = 'kid-miss';
 * ```
 */
export type FetchReason = 'load' | 'refresh' | 'max-age' | 'kid-miss';

/**
 * The message published on each channel of {@link JWKS_EVENTS}.
 *
 * ```ts
 * subscribe(JWKS_EVENTS.cooldownSkip, (message) => {
 *   const { kid, retryInMs } = message as JwksEventMessages['cooldownSkip'];
 *   metrics.increment('jwks.cooldown_skip');
 * });
 * ```
 */
export interface JwksEventMessages {
  fetchStart: { jwksUri: string; reason: FetchReason };
  fetchSuccess: {
    jwksUri: string;
    reason: FetchReason;
    durationMs: number;
    httpStatus: number;
    kids: string[];
    /** How long these keys stay fresh: `maxAgeMs`, or the server's `Cache-Control: max-age` within bounds. */
    maxAgeMs: number;
  };
  fetchFailure: {
    jwksUri: string;
    reason: FetchReason;
    durationMs: number;
    /** The HTTP status when the server answered with one (undefined for timeouts and network errors). */
    httpStatus: number | undefined;
    code: ErrorCode;
    error: CognitoJwtError;
  };
  keysAdded: { jwksUri: string; kids: string[] };
  keysRemoved: { jwksUri: string; kids: string[] };
  /** One key of a JWKS was refused (the others stay usable). */
  keyRejected: { jwksUri: string; error: CognitoJwtError };
  /** A kid is not in the keys even after the one fetch it was allowed (or the keys are pinned). */
  kidMiss: { jwksUri: string; kid: string };
  /** A kid is unknown and the JWKS was fetched for an unknown kid too recently: no request was made. */
  cooldownSkip: { jwksUri: string; kid: string; retryInMs: number };
  /** A refresh failed and the keys already held are kept (stale-if-error) for up to `usableForMs` more. */
  staleServed: { jwksUri: string; ageMs: number; usableForMs: number; kids: string[] };
  /** After `failures` failed fetches in a row, no fetch is made for `retryInMs`. */
  backoff: { jwksUri: string; failures: number; retryInMs: number };
  /**
   * This host's clock against the JWKS server's, from every JWKS answer's `Date` (and `Age`):
   * positive `offsetMs` means this host is ahead; the truth is within `± uncertaintyMs`.
   */
  clockOffset: { jwksUri: string; offsetMs: number; uncertaintyMs: number; date: string; ageSeconds: number };
  /** The `snapshotStore` failed to `load` or `save` (keys are then fetched as usual). */
  storeFailure: { jwksUri: string; operation: 'load' | 'save'; error: unknown };
}

// Each channel is made at its event's first publish: importing the package creates none.
const channels: Partial<Record<JwksEventName, EventChannel>> = {};

/**
 * The channel name of an event, built from its key as {@link JWKS_EVENTS} spells it
 * (`fetchStart` → `cognito-jwt:jwks:fetch-start`): a bundle that publishes but never subscribes
 * then carries no table of names. The events test holds the two to the same names.
 */
export function eventChannelName(event: JwksEventName): string {
  return `cognito-jwt:jwks:${event.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Publish only when someone listens, so an unobserved cache does not even build the message. */
export function publish<Event extends JwksEventName>(
  event: Event,
  message: () => JwksEventMessages[Event],
): void {
  const target = channels[event] ?? channel(eventChannelName(event));
  channels[event] = target;
  if (target.hasSubscribers) target.publish(message());
}

/**
 * Listen to one JWKS event on every runtime: `node:diagnostics_channel` on Node and Bun, the
 * library's own channels on Workers, Deno and browsers (where `node:diagnostics_channel` is absent
 * or not the one the library publishes on). Returns the function that stops listening.
 *
 * ```ts
 * const stop = onJwksEvent('storeFailure', ({ jwksUri, operation, error }) => {
 *   console.warn(`JWKS snapshot store ${operation} failed for ${jwksUri}: ${error}`);
 * });
 * ```
 */
export function onJwksEvent<Event extends JwksEventName>(
  event: Event,
  listener: (message: JwksEventMessages[Event]) => void,
): () => void {
  const name = JWKS_EVENTS[event];
  const wrapped = (message: unknown) => listener(message as JwksEventMessages[Event]);
  subscribe(name, wrapped);
  return () => {
    unsubscribe(name, wrapped);
  };
}

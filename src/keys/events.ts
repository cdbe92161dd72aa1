import { channel } from 'node:diagnostics_channel';

/**
 * What the JWKS cache publishes on `node:diagnostics_channel`. Subscribe with
 * `diagnostics_channel.subscribe(JWKS_EVENTS.fetchFailure, (message) => ...)`.
 * Every message carries the `jwksUri` it is about.
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
} as const;

export type JwksEventName = keyof typeof JWKS_EVENTS;

const channels = Object.fromEntries(
  Object.entries(JWKS_EVENTS).map(([event, name]) => [event, channel(name)]),
) as Record<JwksEventName, ReturnType<typeof channel>>;

/** Publish only when someone listens, so an unobserved cache pays nothing. */
export function publish(event: JwksEventName, message: () => object): void {
  const target = channels[event];
  if (target.hasSubscribers) target.publish(message());
}

import { channel } from 'node:diagnostics_channel';
import type { CapacityReport } from './mirror.ts';
import type { StoreSettingsReport } from './store.ts';

/**
 * The `node:diagnostics_channel` names a revocation list publishes on. Publishing costs nothing
 * while nobody subscribes.
 *
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { REVOCATION_EVENTS, type RevocationEventMessages } from 'cognito-jwt/revocation';
 *
 * subscribe(REVOCATION_EVENTS.acceptedUnchecked, (message) => {
 *   const { sub, stalenessMs } = message as RevocationEventMessages['acceptedUnchecked'];
 *   console.warn(`accepted a token of ${sub} with a revocation list ${stalenessMs} ms old`);
 * });
 * ```
 */
export const REVOCATION_EVENTS = {
  /** The list became trustworthy, or stopped being so. */
  state: 'cognito-jwt:revocation:state',
  /** `onUnavailable: 'accept'` let a token through while the list could not be trusted. */
  acceptedUnchecked: 'cognito-jwt:revocation:accepted-unchecked',
  /** The mirror was read in full from the store (start, reconnect, lost message, period). */
  resync: 'cognito-jwt:revocation:resync',
  /** The store lacked entries this mirror held (it lost data): the mirror wrote them back through the write script. */
  reseed: 'cognito-jwt:revocation:reseed',
  /** A store connection failed or dropped (it reconnects by itself). */
  storeError: 'cognito-jwt:revocation:store-error',
  /** The store's settings, read when it is opened: eviction policy, persistence, and what they risk. */
  storeSettings: 'cognito-jwt:revocation:store-settings',
  /**
   * A pool's entries crossed a level of `maxEntriesPerPool`: `warning` at 80 %, `full` at the cap
   * (sessions folded into per-user cut-offs), `overflow` (a pool-wide cut-off), `ok` once back under 80 %.
   */
  capacity: 'cognito-jwt:revocation:capacity',
} as const;

/** One of the keys of {@link REVOCATION_EVENTS}. */
export type RevocationEventName = keyof typeof REVOCATION_EVENTS;

/** Why a mirror re-read the whole store. */
export type ResyncReason = 'start' | 'reconnect' | 'lost-message' | 'store-reset' | 'digest' | 'period';

/**
 * The message published on each channel of {@link REVOCATION_EVENTS}.
 *
 * ```ts
 * subscribe(REVOCATION_EVENTS.resync, (message) => {
 *   const { reason, entries, durationMs } = message as RevocationEventMessages['resync'];
 * });
 * ```
 */
export interface RevocationEventMessages {
  /**
   * `reason`: what made the list review its trust (`ready`, `stale`, `confirmed`); `cause`: the
   * store's last error while it could not confirm the mirror; `source`: the list that changed (a
   * process may hold several).
   */
  state: { trusted: boolean; stalenessMs: number; reason: string; cause?: string; source: object };
  acceptedUnchecked: { iss: unknown; sub: unknown; stalenessMs: number };
  resync: { reason: ResyncReason; entries: number; durationMs: number };
  /** `lacking`: entries the full read did not find in the store; `entries`: how many the store then took. */
  reseed: {
    reason: ResyncReason;
    lacking: number;
    entries: number;
    storeVersion: number;
    mirrorVersion: number;
  };
  storeError: { error: Error };
  storeSettings: StoreSettingsReport;
  /** `source`: the list whose mirror it is. */
  capacity: CapacityReport & { source: object };
}

const channels = Object.fromEntries(
  Object.entries(REVOCATION_EVENTS).map(([event, name]) => [event, channel(name)]),
) as Record<RevocationEventName, ReturnType<typeof channel>>;

/** Publish only when someone listens, so an unobserved list does not even build the message. */
export function publish<Event extends RevocationEventName>(
  event: Event,
  message: () => RevocationEventMessages[Event],
): void {
  const target = channels[event];
  if (target.hasSubscribers) target.publish(message());
}

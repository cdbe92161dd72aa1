import type { RevocationEntry } from './entries.ts';

/** What a store needs from the list it feeds: its mirror, its clock, and where to report freshness. */
export interface MirrorSink {
  /** Epoch milliseconds (the list's clock). */
  now(): number;
  /** Add an entry the store delivered (a change, or a full read). */
  apply(entry: RevocationEntry): void;
  /** The same for a revoked session, without an entry object (a full read passes a million). */
  applySession(originJti: string, expiresAt: number): void;
  /** Every entry the mirror holds (to write back to a store that lost them). */
  entries(): Iterable<RevocationEntry>;
  /** The mirror held every change the store had made as of `at` (epoch ms). */
  confirmed(at: number): void;
}

/**
 * Where revocations are kept and how they reach the mirror. The in-memory store is the mirror
 * itself; the Redis store writes to Redis and feeds every process's mirror.
 */
export interface RevocationStore {
  /** Resolves once the mirror holds the whole store (and never rejects while retrying). */
  readonly ready: Promise<void>;
  /** Make the entry durable and tell every mirror; rejects with `ERR_REVOCATION_UNAVAILABLE` when it cannot. */
  write(entry: RevocationEntry): Promise<void>;
  /** Stop timers and connections. */
  close(): Promise<void>;
}

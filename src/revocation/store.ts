import type { RevocationEntry } from './entries.ts';

/** What a store needs from the list it feeds: its mirror, its clock, and where to report freshness. */
export interface MirrorSink {
  /** Epoch milliseconds (the list's clock). */
  now(): number;
  /**
   * Add an entry the store delivered (a change, or a full read). `true` when the mirror now holds it
   * exactly as given (not a later expiry or cut-off): how a full read counts what the store covers.
   */
  apply(entry: RevocationEntry): boolean;
  /**
   * The same for a revoked session, without an entry object (a full read passes a million), at `now`
   * (the reader's clock, read once a page rather than once a member); its owner when the store has it.
   */
  applySession(originJti: string, expiresAt: number, now: number, userPoolId?: string, sub?: string): boolean;
  /**
   * {@link applySession} for a session without an owner, its id given as `bytes[start..end)`;
   * `undefined` when the mirror needs the id as a string (call {@link applySession}).
   */
  applySessionBytes(
    bytes: Uint8Array,
    start: number,
    end: number,
    expiresAt: number,
    now: number,
  ): boolean | undefined;
  /**
   * {@link applySessionBytes} for a session with its owner: its id is `bytes[start..end)`, its pool
   * `bytes[poolStart..poolEnd)` and its sub `bytes[subStart..subEnd)`.
   */
  applyOwnedSessionBytes(
    bytes: Uint8Array,
    start: number,
    end: number,
    poolStart: number,
    poolEnd: number,
    subStart: number,
    subEnd: number,
    expiresAt: number,
    now: number,
  ): boolean | undefined;
  /** Every entry the mirror holds (to write back to a store that lost them). */
  entries(): Iterable<RevocationEntry>;
  /** How many entries the mirror holds. */
  size(): number;
  /** About this many entries are coming (a full read): make room for them at once. */
  reserve(entries: number): void;
  /** Drop the mirror's entries expired at `at` (epoch ms). */
  sweep(at: number): void;
  /** The mirror held every change the store had made as of `at` (epoch ms). */
  confirmed(at: number): void;
  /** A store command or connection failed (the cause a stale list names). */
  failed(error: Error): void;
  /** What the store's settings risk (eviction, no persistence), read when the store is opened. */
  storeSettings(report: StoreSettingsReport): void;
}

/** The store's settings as read at start (INFO memory, INFO persistence, and CONFIG GET save where allowed). */
export interface StoreSettingsReport {
  /** `maxmemory_policy`, or `undefined` when INFO did not answer. */
  maxmemoryPolicy: string | undefined;
  /** `aof`, `rdb` (a save schedule, or saves seen), `off`, or `unknown` (nothing answered). */
  persistence: 'aof' | 'rdb' | 'off' | 'unknown';
  /** One sentence per risk found; empty when the settings keep revocations. */
  warnings: string[];
}

/** What a write tells the writer beyond success. */
export interface WriteOutcome {
  /**
   * This process found the store without an epoch and created it (at its first read or with this
   * write): nobody had read or written this prefix, or the store lost its data since.
   */
  createdStore: boolean;
}

/**
 * Where revocations are kept and how they reach the mirror. The in-memory store is the mirror
 * itself; the Redis store writes to Redis and feeds every process's mirror.
 */
export interface RevocationStore {
  /** Resolves once the mirror holds the whole store (and never rejects while retrying). */
  readonly ready: Promise<void>;
  /**
   * Make the entry durable and tell every mirror; rejects with `ERR_REVOCATION_UNAVAILABLE` when it
   * cannot. `minLifetimeMs`: the entry lives at least this long by the store's clock.
   */
  write(entry: RevocationEntry, minLifetimeMs: number): Promise<WriteOutcome>;
  /** Stop timers and connections. */
  close(): Promise<void>;
}

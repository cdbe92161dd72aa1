/**
 * Where a session's tokens live when they are kept server-side: the browser holds only a sealed
 * reference (`{sid, sub}`), the store holds the session. The Redis store (`redis.ts` opens it) is
 * the one implementation; the session door takes any object of this shape.
 */

import type { ResolvedRedisCluster } from '../net/redis-connection.ts';

/** What {@link SessionStore.list} tells of one session; the tokens stay in the store. */
export interface StoredSessionSummary {
  /** The session id (the sealed cookie refers to it). */
  readonly sid: string;
  /** Sign-in and last request, epoch seconds. */
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** When the session ends unless used again (idle) or at the latest (absolute), epoch seconds. */
  readonly endsAt: number;
}

/** A session as the store holds it: the sealed-free state as JSON, its generation and last request. */
export interface StoredSession {
  readonly state: string;
  readonly generation: number;
  readonly lastSeenAt: number;
}

/** The operations the session door needs of a store; every failure is `ERR_SESSION_STORE_UNAVAILABLE`. */
export interface SessionStore {
  /** Keep a new session until `endsAt` (epoch seconds). */
  create(sub: string, sid: string, session: StoredSession, createdAt: number, endsAt: number): Promise<void>;
  /** The session, or `undefined` when it ended (signed out, expired, ended per user). */
  get(sub: string, sid: string): Promise<StoredSession | undefined>;
  /**
   * Replace the session's state if it still holds `generation` (compare-and-set): `'replaced'`,
   * `'changed'` (another process refreshed it first) or `'ended'`.
   */
  replace(
    sub: string,
    sid: string,
    generation: number,
    session: StoredSession,
    endsAt: number,
  ): Promise<'replaced' | 'changed' | 'ended'>;
  /** Record a request: last seen now, ends at `endsAt` (the idle lifetime moves). */
  touch(sub: string, sid: string, lastSeenAt: number, endsAt: number): Promise<void>;
  /** Take the session's refresh lock for `ms`; a token to release it, or `undefined` when another holds it. */
  lock(sub: string, sid: string, ms: number): Promise<string | undefined>;
  unlock(sub: string, sid: string, token: string): Promise<void>;
  /** End one session; whether it existed. */
  end(sub: string, sid: string): Promise<boolean>;
  /** The user's live sessions. */
  list(sub: string): Promise<StoredSessionSummary[]>;
  /** End every session of the user; how many there were. */
  endAll(sub: string): Promise<number>;
  close(): Promise<void>;
}

/** The Redis settings, checked, with their defaults. */
export interface ResolvedSessionStoreSettings {
  /** One node's URL; on a cluster, the first seed node's. */
  readonly url: string;
  /** A Redis Cluster's seed nodes; absent for one node. */
  readonly cluster?: ResolvedRedisCluster;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

const STORE_METHODS = [
  'create',
  'get',
  'replace',
  'touch',
  'lock',
  'unlock',
  'end',
  'list',
  'endAll',
  'close',
];

/** Whether `value` has the shape of a {@link SessionStore} (checked by shape: no import of the Redis store). */
export function isSessionStore(value: unknown): value is SessionStore {
  return (
    typeof value === 'object' &&
    value !== null &&
    STORE_METHODS.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

/**
 * The Redis session store. Layout, for a user `sub` (its `{`, `}` and `%` percent-encoded so the
 * hash tag stays one):
 * - `{prefix}{sub}:s:{sid}`: a hash, `state` (the session as JSON: tokens included), `g` (its
 *   generation, one more per refresh), `c`, `s` and `e` (sign-in, last request and end, epoch s); it expires
 *   when the session does (idle or absolute lifetime), so Redis forgets ended sessions by itself.
 * - `{prefix}{sub}:index`: a sorted set of the user's session ids, scored by when each ends (epoch
 *   ms): what lists and ends a user's sessions. Members past their end are dropped as it is written.
 * - `{prefix}{sub}:lock:{sid}`: the refresh lock (SET NX PX): one refresh per session across
 *   processes.
 * Every key of a user holds the same `{sub}` hash tag: on Redis Cluster they share a slot, so each
 * script and each multi-key command (the DEL of `endAll`) is single-slot, and is routed by its first
 * key. No command spans users: `list` and `endAll` read one user's index, then that user's sessions.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { CognitoJwtError } from '../errors.ts';
import { createRedisCluster, type RedisClusterClient } from '../net/redis-cluster.ts';
import { redisSocket } from '../net/redis-connection.ts';
import type {
  ResolvedSessionStoreSettings,
  SessionStore,
  StoredSession,
  StoredSessionSummary,
} from './store.ts';

// KEYS: session, index. ARGV: state, g, c, s, ttl ms, end ms, sid.
const CREATE = `
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'g', ARGV[2], 'c', ARGV[3], 's', ARGV[4], 'e', math.floor(tonumber(ARGV[6]) / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(now[1]) * 1000)
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7])
local keep = tonumber(ARGV[6]) - tonumber(now[1]) * 1000
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
return 1`;

// KEYS: session, index. ARGV: expected g, state, new g, s, ttl ms, end ms, sid.
// A session ended meanwhile (signed out) is not brought back; another refresh first wins.
const REPLACE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'ended' end
if redis.call('HGET', KEYS[1], 'g') ~= ARGV[1] then return 'changed' end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'g', ARGV[3], 's', ARGV[4], 'e', math.floor(tonumber(ARGV[6]) / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'XX', ARGV[6], ARGV[7])
return 'replaced'`;

// KEYS: session, index. ARGV: s, ttl ms, end ms, sid.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'e', math.floor(tonumber(ARGV[3]) / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[4])
return 1`;

// KEYS: lock. ARGV: token. Releases the lock only if this process still holds it.
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: session, index. ARGV: sid.
const END = `
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return { deleted }`;

type Client = ReturnType<typeof createClient>;

/** A user's hash tag: `{`, `}` and `%` encoded, so the tag ends where it should. */
function tag(sub: string): string {
  return `{${sub.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
}

/** Sessions in Redis; see the module comment for the layout. */
export class RedisSessionStore implements SessionStore {
  /** One node's client, or the cluster's. */
  readonly #client: Client | RedisClusterClient;
  /** Sends one command; on a cluster, to the master of `key`'s slot (never a replica: no stale reads). */
  readonly #route: (key: string, args: string[], timeout: number) => Promise<unknown>;
  readonly #settings: ResolvedSessionStoreSettings;
  #connected: Promise<unknown>;
  #closed = false;

  constructor(settings: ResolvedSessionStoreSettings) {
    this.#settings = settings;
    const socket = redisSocket(settings.connectTimeoutMs);
    if (settings.cluster) {
      const cluster = createRedisCluster(settings.cluster, socket);
      this.#client = cluster;
      this.#route = (key, args, timeout) => cluster.sendCommand(key, false, args, { timeout });
    } else {
      const client = createClient({
        url: settings.url,
        // A read must fail at once while Redis is away (503), not wait in a queue.
        disableOfflineQueue: true,
        socket,
      }) as Client;
      this.#client = client;
      this.#route = (_key, args, timeout) => client.sendCommand(args, { timeout });
    }
    // node-redis throws on an 'error' without a listener; it reconnects by itself.
    this.#client.on('error', () => {});
    this.#connected = this.#client.connect();
    this.#connected.catch(() => {});
  }

  #keys(sub: string, sid?: string) {
    const base = `${this.#settings.keyPrefix}${tag(sub)}`;
    return {
      session: `${base}:s:${sid}`,
      index: `${base}:index`,
      lock: `${base}:lock:${sid}`,
      sessionOf: (id: string) => `${base}:s:${id}`,
    };
  }

  /** One command; its first key (`EVAL script numkeys key…`, else `COMMAND key…`) picks the slot. */
  async #send(args: string[]): Promise<unknown> {
    const firstKey = (args[0] === 'EVAL' ? args[3] : args[1]) as string;
    try {
      // A single-node client still trying to connect (Redis away) never settles `connect()`: a
      // request waits for it no longer than for a command, then gets its 503.
      await withDeadline(this.#connect(), this.#settings.commandTimeoutMs);
      return await this.#route(firstKey, args, this.#settings.commandTimeoutMs);
    } catch (cause) {
      throw new CognitoJwtError(
        'ERR_SESSION_STORE_UNAVAILABLE',
        `the Redis session store cannot be reached: ${(cause as Error)?.message ?? String(cause)}`,
        { cause },
      );
    }
  }

  /**
   * The connection. A single-node client retries by itself; a cluster client whose seed nodes all
   * failed closes again, so the next command asks them anew.
   */
  #connect(): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('the session store is closed'));
    if (!this.#client.isOpen) {
      this.#connected = this.#client.connect();
      this.#connected.catch(() => {});
    }
    return this.#connected;
  }

  async create(sub: string, sid: string, session: StoredSession, createdAt: number, endsAt: number) {
    const keys = this.#keys(sub, sid);
    await this.#send([
      'EVAL',
      CREATE,
      '2',
      keys.session,
      keys.index,
      session.state,
      String(session.generation),
      String(createdAt),
      String(session.lastSeenAt),
      String(Math.max(1, endsAt - session.lastSeenAt) * 1000),
      String(endsAt * 1000),
      sid,
    ]);
  }

  async get(sub: string, sid: string): Promise<StoredSession | undefined> {
    const keys = this.#keys(sub, sid);
    const [state, g, s] = (await this.#send(['HMGET', keys.session, 'state', 'g', 's'])) as (string | null)[];
    if (state == null || g == null || s == null) return undefined;
    return { state, generation: Number(g), lastSeenAt: Number(s) };
  }

  async replace(sub: string, sid: string, generation: number, session: StoredSession, endsAt: number) {
    const keys = this.#keys(sub, sid);
    return (await this.#send([
      'EVAL',
      REPLACE,
      '2',
      keys.session,
      keys.index,
      String(generation),
      session.state,
      String(session.generation),
      String(session.lastSeenAt),
      String(Math.max(1, endsAt - session.lastSeenAt) * 1000),
      String(endsAt * 1000),
      sid,
    ])) as 'replaced' | 'changed' | 'ended';
  }

  async touch(sub: string, sid: string, lastSeenAt: number, endsAt: number): Promise<void> {
    const keys = this.#keys(sub, sid);
    await this.#send([
      'EVAL',
      TOUCH,
      '2',
      keys.session,
      keys.index,
      String(lastSeenAt),
      String(Math.max(1, endsAt - lastSeenAt) * 1000),
      String(endsAt * 1000),
      sid,
    ]);
  }

  async lock(sub: string, sid: string, ms: number): Promise<string | undefined> {
    const token = randomUUID();
    const set = await this.#send(['SET', this.#keys(sub, sid).lock, token, 'NX', 'PX', String(ms)]);
    return set === 'OK' ? token : undefined;
  }

  async unlock(sub: string, sid: string, token: string): Promise<void> {
    await this.#send(['EVAL', UNLOCK, '1', this.#keys(sub, sid).lock, token]);
  }

  async end(sub: string, sid: string): Promise<boolean> {
    const keys = this.#keys(sub, sid);
    const [deleted] = (await this.#send(['EVAL', END, '2', keys.session, keys.index, sid])) as number[];
    return deleted === 1;
  }

  async list(sub: string): Promise<StoredSessionSummary[]> {
    const keys = this.#keys(sub);
    const ids = (await this.#send(['ZRANGE', keys.index, '0', '-1'])) as string[];
    const found: StoredSessionSummary[] = [];
    for (const sid of ids) {
      const [c, s, e] = (await this.#send(['HMGET', keys.sessionOf(sid), 'c', 's', 'e'])) as (
        | string
        | null
      )[];
      if (c == null || s == null || e == null) continue; // ended by its TTL; the next sign-in prunes the index
      found.push({ sid, createdAt: Number(c), lastSeenAt: Number(s), endsAt: Number(e) });
    }
    return found;
  }

  async endAll(sub: string): Promise<number> {
    const keys = this.#keys(sub);
    const ids = (await this.#send(['ZRANGE', keys.index, '0', '-1'])) as string[];
    if (ids.length === 0) return 0;
    // One DEL for every key of the user: a single slot, so it is one command on a cluster too.
    const deleted = (await this.#send(['DEL', ...ids.map((id) => keys.sessionOf(id))])) as number;
    await this.#send(['ZREM', keys.index, ...ids]);
    return deleted;
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A client still trying to connect (Redis away) never settles `connect()`: destroy it instead.
    if (this.#client.isReady) {
      try {
        await this.#client.close();
        return;
      } catch {
        // fall through: destroy it
      }
    }
    try {
      this.#client.destroy();
    } catch {
      // already closed
    }
  }
}

/** `promise`, or a rejection once `ms` have passed. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The Redis store. Layout (Redis 6.2+; Debian ships 7.0, which has no per-field hash expiry):
 * - `{prefix}entries`: a sorted set, member = the entry's spelling with its expiry (`entries.ts`),
 *   score = that expiry in epoch ms. One key for the whole list: expired entries go with one
 *   ZREMRANGEBYSCORE, and a full read walks it by rank from the top, pages of members without
 *   scores (ZSCAN, or WITHSCORES, make Redis format a double per entry: about 4 µs each, 15 s for a
 *   million; paging by score from a cursor turns quadratic when many entries share one expiry).
 *   Members are read as bytes (`decodeMember`): no string per member, no entry object per
 *   session. (A script joining each page into one string spared node-redis's parsing but cost
 *   Redis about ten times the ZRANGE itself, and blocked it about 30 ms a page.)
 * - `{prefix}version`: a counter incremented by every write.
 * - `{prefix}epoch`: a random id set once (SET NX): a store that restarted empty or was flushed
 *   has a new one, and every mirror then writes its entries back.
 * - `{prefix}changes`: a pub/sub channel; every write publishes `{version}\n{member}`.
 * One Lua script does all three, so versions and messages are in the same order everywhere.
 *
 * Each process's mirror subscribes first, then reads the whole set (at start and after every
 * reconnect), applies each message, and reads `version` every heartbeat: a gap in the message
 * versions, or a version the messages do not reach within a heartbeat, means a lost message (read
 * everything again); a version lower than the mirror's means the store lost data (a restart
 * without persistence), and the mirror writes its entries back.
 */
import { randomUUID } from 'node:crypto';
import { createClient, RESP_TYPES } from 'redis';
import { CognitoJwtError } from '../errors.ts';
import {
  decodeEntry,
  decodeMember,
  encodeEntry,
  type MemberVisitor,
  type RevocationEntry,
} from './entries.ts';
import { publish, type ResyncReason } from './events.ts';
import type { MirrorSink, RevocationStore } from './store.ts';

/** The Redis settings of a revocation list, checked and with their defaults filled in. */
export interface ResolvedRedisSettings {
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  heartbeatMs: number;
  reconcileIntervalMs: number;
  staleAfterMs: number;
}

// Expired members are pruned by Redis's own clock (TIME), less a margin, never by the writer's: one
// writer whose clock runs ahead would otherwise delete revocations whose tokens still live.
const WRITE_SCRIPT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (nowMs - tonumber(ARGV[3])))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], version .. '\\n' .. ARGV[2])
return version`;

/**
 * How long past its expiry (by Redis's clock) a member stays in the store: the readers' clocks may
 * run behind Redis's, and a verifier accepts a token up to its clock tolerance (300 s) past `exp`.
 */
export const PRUNE_MARGIN_MS = 300_000;

/** Entries read per ZRANGE call, and written back per ZADD when reseeding. */
const PAGE = 10_000;
/** ZRANGE pages requested together during a full read. */
const PAGES_IN_FLIGHT = 4;

type Client = ReturnType<typeof createClient>;

/** Keeps a mirror in step with a Redis sorted set; see the module comment for the layout. */
export class RedisStore implements RevocationStore {
  readonly ready: Promise<void>;
  readonly #settings: ResolvedRedisSettings;
  readonly #sink: MirrorSink;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #keys: { entries: string; version: string; epoch: string; channel: string };
  readonly #timers: NodeJS.Timeout[] = [];
  /** The highest change version the mirror has applied in order (-1: no full read yet). */
  #version = -1;
  /** A version the store reported at `sentAt`; when the mirror reaches it, it was current at `sentAt`. */
  #pending: { version: number; sentAt: number; heartbeats: number } | undefined;
  #heartbeatSeq = 0;
  #heartbeatInFlight: { seq: number; sentAt: number } | undefined;
  #resyncing: Promise<void> | undefined;
  #resyncAgain: ResyncReason | undefined;
  #seenDuringRead = -1;
  /** The store's identity when the mirror last read it: a new one means the store lost its data. */
  #epoch: string | undefined;
  #started = false;
  #closed = false;

  constructor(settings: ResolvedRedisSettings, sink: MirrorSink) {
    this.#settings = settings;
    this.#sink = sink;
    const prefix = settings.keyPrefix;
    this.#keys = {
      entries: `${prefix}entries`,
      version: `${prefix}version`,
      epoch: `${prefix}epoch`,
      channel: `${prefix}changes`,
    };
    this.#client = createClient({
      url: settings.url,
      // A revocation must fail at once while Redis is away, not wait in a queue the caller cannot see.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: settings.connectTimeoutMs,
        reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000),
      },
    });
    this.#subscriber = this.#client.duplicate();
    for (const client of [this.#client, this.#subscriber]) {
      // node-redis throws on an 'error' without a listener; it reconnects by itself.
      client.on('error', (error: Error) => publish('storeError', () => ({ error })));
    }
    this.#subscriber.on('ready', () => {
      if (this.#started) this.#resync('reconnect');
    });
    this.ready = this.#start();
    this.ready.catch(() => {});
  }

  async write(entry: RevocationEntry): Promise<void> {
    try {
      await this.#client.sendCommand(
        [
          'EVAL',
          WRITE_SCRIPT,
          '2',
          this.#keys.entries,
          this.#keys.version,
          String(entry.expiresAt),
          encodeEntry(entry),
          String(PRUNE_MARGIN_MS),
          this.#keys.channel,
        ],
        { timeout: this.#settings.commandTimeoutMs },
      );
    } catch (cause) {
      throw new CognitoJwtError(
        'ERR_REVOCATION_UNAVAILABLE',
        `the revocation could not be written to Redis (${(cause as Error)?.message ?? cause}); only this process knows it: retry`,
        { cause },
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    await Promise.all(
      [this.#client, this.#subscriber].map(async (client) => {
        try {
          if (client.isOpen) await client.close();
        } catch {
          client.destroy();
        }
      }),
    );
  }

  async #start(): Promise<void> {
    await Promise.all([this.#connect(this.#client), this.#connect(this.#subscriber)]);
    // Subscribe before the full read: a change made during the read arrives as a message.
    await this.#subscriber.subscribe(this.#keys.channel, (message) => this.#onMessage(message));
    this.#started = true;
    await this.#resync('start');
    this.#every(() => this.#heartbeat(), this.#settings.heartbeatMs);
    this.#every(() => this.#resync('period'), this.#settings.reconcileIntervalMs);
  }

  /** Connect, retrying until it works or the store is closed: `ready` waits rather than fails. */
  async #connect(client: Client): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new Error('closed');
      try {
        await client.connect();
        return;
      } catch (error) {
        publish('storeError', () => ({ error: error as Error }));
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(attempt, 6), 2_000)));
      }
    }
  }

  #onMessage(message: string): void {
    const newline = message.indexOf('\n');
    if (newline < 0) return;
    const version = Number(message.slice(0, newline));
    const entry = decodeEntry(message.slice(newline + 1));
    if (entry) this.#sink.apply(entry);
    if (!Number.isSafeInteger(version)) return;
    if (this.#version < 0 || this.#resyncing) {
      // The full read under way decides the version; remember how far the messages got.
      this.#seenDuringRead = Math.max(this.#seenDuringRead, version);
      return;
    }
    if (version === this.#version + 1) {
      this.#version = version;
      this.#settle();
    } else if (version > this.#version + 1) {
      this.#resync('lost-message'); // a gap: a message between them never came
    } else if (version < this.#version && this.#resyncing === undefined) {
      this.#resync('store-reset'); // versions started again: the store lost its data
    }
  }

  /** The mirror reached a version the store reported: it was current when that version was read. */
  #settle(): void {
    if (this.#pending && this.#version >= this.#pending.version) {
      this.#sink.confirmed(this.#pending.sentAt);
      this.#pending = undefined;
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#version < 0 || this.#resyncing) return;
    const now = this.#sink.now();
    // A reply that never comes (a paused server, a half-open socket) must not block later heartbeats.
    if (this.#heartbeatInFlight && now - this.#heartbeatInFlight.sentAt < this.#settings.staleAfterMs) return;
    const seq = ++this.#heartbeatSeq;
    this.#heartbeatInFlight = { seq, sentAt: now };
    let reply: unknown;
    try {
      reply = await this.#client.sendCommand(['MGET', this.#keys.version, this.#keys.epoch], {
        timeout: this.#settings.commandTimeoutMs,
      });
    } catch {
      return; // no confirmation: the mirror grows stale until Redis answers again
    } finally {
      if (this.#heartbeatInFlight?.seq === seq) this.#heartbeatInFlight = undefined;
    }
    if (seq !== this.#heartbeatSeq || this.#resyncing || !this.#subscriber.isReady) return;
    const [versionReply, epoch] = reply as [string | null, string | null];
    const storeVersion = Number(versionReply ?? 0);
    if (storeVersion < this.#version || epoch !== this.#epoch) {
      this.#resync('store-reset');
    } else if (storeVersion === this.#version) {
      this.#pending = undefined;
      this.#sink.confirmed(now);
    } else if (this.#pending && this.#pending.heartbeats >= 1) {
      // A heartbeat later the messages still have not reached what the store had: one was lost.
      this.#pending = undefined;
      this.#resync('lost-message');
    } else {
      this.#pending = {
        version: storeVersion,
        sentAt: now,
        heartbeats: (this.#pending?.heartbeats ?? -1) + 1,
      };
    }
  }

  /** Read the whole set again (one read at a time; a request during a read runs once after it). */
  #resync(reason: ResyncReason): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#resyncing) {
      this.#resyncAgain ??= reason;
      return this.#resyncing;
    }
    const run = async (): Promise<void> => {
      let current: ResyncReason | undefined = reason;
      while (current !== undefined && !this.#closed) {
        this.#resyncAgain = undefined;
        try {
          await this.#readAll(current);
        } catch (error) {
          publish('storeError', () => ({ error: error as Error }));
          if (current === 'start') {
            // Keep trying until the first read succeeds: `ready` waits for it.
            await new Promise((resolve) => setTimeout(resolve, 200));
            this.#resyncAgain ??= 'start';
          }
        }
        current = this.#resyncAgain;
      }
    };
    this.#resyncing = run().finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #readAll(reason: ResyncReason): Promise<void> {
    const startedAt = performance.now();
    const sentAt = this.#sink.now();
    const mirrorVersion = this.#version;
    this.#seenDuringRead = -1;
    const timeout = this.#settings.commandTimeoutMs;
    // A Redis that restarted without persistence (or was flushed) has no epoch, or a new one.
    await this.#client.sendCommand(['SET', this.#keys.epoch, randomUUID(), 'NX'], { timeout });
    const [versionReply, epoch] = (await this.#client.sendCommand(
      ['MGET', this.#keys.version, this.#keys.epoch],
      {
        timeout,
      },
    )) as [string | null, string | null];
    const before = Number(versionReply ?? 0);
    const storeReset = this.#epoch !== undefined && epoch !== this.#epoch;
    // Pages by rank from the latest expiry down. Members are only ever removed from the bottom
    // (expired ones) and new ones mostly land at the top, so a change during the read can make a page
    // repeat a member, never skip one; a member added meanwhile also arrives as a message.
    let entries = 0;
    // A few pages in flight at once: each round trip waits for two processes to get a core, which
    // on a busy host costs more than the pages themselves.
    const pageTimeout = Math.max(this.#settings.commandTimeoutMs, 10_000);
    let more = true;
    // Members come as bytes: decodeMember reads them without a string or an object per member.
    const bytes = this.#client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    let now = this.#sink.now();
    let live = 0;
    const visit: MemberVisitor = {
      session: (originJti, expiresAt) => {
        if (expiresAt <= now) return;
        this.#sink.applySession(originJti, expiresAt);
        live++;
      },
      other: (entry) => {
        if (entry.expiresAt <= now) return;
        this.#sink.apply(entry);
        live++;
      },
    };
    const fetchPages = (start: number) =>
      Promise.all(
        Array.from(
          { length: PAGES_IN_FLIGHT },
          (_, i) =>
            bytes.sendCommand(
              [
                'ZRANGE',
                this.#keys.entries,
                String(start + i * PAGE),
                String(start + (i + 1) * PAGE - 1),
                'REV',
              ],
              { timeout: pageTimeout },
            ) as unknown as Promise<Buffer[]>,
        ),
      );
    // The next pages are asked for before these are decoded, so Redis and this process work at once.
    let next = fetchPages(0);
    for (let start = 0; more; start += PAGE * PAGES_IN_FLIGHT) {
      const pages = await next;
      next = fetchPages(start + PAGE * PAGES_IN_FLIGHT);
      now = this.#sink.now();
      for (const members of pages) {
        live = 0;
        for (const member of members) decodeMember(member, visit);
        entries += live;
        // Short page: the end. A page without a live entry: the rest has expired (or is not ours).
        if (members.length < PAGE || live === 0) {
          more = false;
          break;
        }
      }
    }
    // Past the end: nothing to read in those pages, and a failure there changes nothing.
    next.catch(() => {});
    if ((storeReset || before < mirrorVersion) && reason !== 'start')
      await this.#reseed(before, mirrorVersion);
    this.#epoch = epoch ?? undefined;
    // Messages applied during the read may be past `before`; never step back over them.
    this.#version = Math.max(before, this.#seenDuringRead);
    this.#pending = undefined;
    if (this.#subscriber.isReady) this.#sink.confirmed(sentAt);
    publish('resync', () => ({ reason, entries, durationMs: performance.now() - startedAt }));
  }

  /** The store holds fewer changes than this mirror saw: write the mirror's entries back, so new processes get them. */
  async #reseed(storeVersion: number, mirrorVersion: number): Promise<void> {
    const batch: string[] = [];
    let count = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.#client.sendCommand(['ZADD', this.#keys.entries, ...batch], {
        timeout: Math.max(this.#settings.commandTimeoutMs, 10_000),
      });
      batch.length = 0;
    };
    for (const entry of this.#sink.entries()) {
      batch.push(String(entry.expiresAt), encodeEntry(entry));
      count++;
      if (batch.length >= PAGE * 2) await flush();
    }
    await flush();
    publish('reseed', () => ({ entries: count, storeVersion, mirrorVersion }));
  }

  #every(run: () => unknown, everyMs: number): void {
    const timer = setInterval(() => void run(), everyMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

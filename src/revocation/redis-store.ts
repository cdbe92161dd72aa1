/**
 * The Redis store. Layout (Redis 6.2+; Debian ships 7.0, which has no per-field hash expiry):
 * - `{prefix}entries`: a sorted set, member = the entry's spelling with its expiry (`entries.ts`),
 *   score = that expiry in epoch ms. One key for the whole list: a full read walks it by rank from
 *   the top, pages of members without scores (ZSCAN, or WITHSCORES, make Redis format a double per
 *   entry: about 4 µs each, 15 s for a million; paging by score from a cursor turns quadratic when
 *   many entries share one expiry). Members are read as bytes (`decodeMember`): no string per
 *   member, no entry object per session. (A script joining each page into one string spared
 *   node-redis's parsing but cost Redis about ten times the ZRANGE itself, and blocked it about
 *   30 ms a page.)
 * - `{prefix}version`: a counter incremented by every write that changed the set.
 * - `{prefix}digest`: `{xor}:{count}`, the XOR of the first 64 bits of each member's SHA-1 and the
 *   number of members, kept by the same script as each change: what the set holds, not how often it
 *   changed. A mirror knows the digest of the version it holds; the same version with another digest
 *   means the set lost (or gained) members no message told of.
 * - `{prefix}epoch`: a random id set once (SET NX) by the first reader or writer: a store that
 *   restarted empty or was flushed has a new one.
 * - `{prefix}changes:2`: a pub/sub channel; every write publishes `{version}\n{digest}\n{member}…`.
 *   (The `:2` keeps mirrors of the older one-member format, on `{prefix}changes`, from misreading
 *   it: they see a version gap and read everything instead.)
 * One Lua script does all of it, with Redis's clock, so versions and messages are in the same order
 * everywhere. Every key is named in KEYS: with a `{…}` hash tag in the prefix they share one slot.
 *
 * Each process's mirror subscribes first, then reads the whole set (at start, after every
 * reconnect, when the store looks reset or different, and periodically), applies each message, and
 * reads version, epoch and digest every heartbeat: a gap in the message versions, or a version the
 * messages do not reach within a heartbeat, means a lost message (read everything again); a lower
 * version, a new epoch or another digest at the same version means the store is not what the mirror
 * last confirmed (read everything again). After every full read the mirror counts which of its
 * entries the store held; any it lacks are written back through the write script: versioned and
 * published, so every other mirror, and every process started later, gets them. See
 * docs/design/revocation-durability.md for the argument.
 */
import { randomUUID } from 'node:crypto';
import { createClient, RESP_TYPES } from 'redis';
import { CognitoJwtError } from '../errors.ts';
import { createRedisCluster, type RedisClusterClient } from '../net/redis-cluster.ts';
import { type ResolvedRedisCluster, redisSocket } from '../net/redis-connection.ts';
import {
  decodeEntry,
  decodeMember,
  encodeEntry,
  type MemberVisitor,
  type RevocationEntry,
} from './entries.ts';
import { publish, type ResyncReason } from './events.ts';
import type { MirrorSink, RevocationStore, StoreSettingsReport, WriteOutcome } from './store.ts';

/** The Redis settings of a revocation list, checked and with their defaults filled in. */
export interface ResolvedRedisSettings {
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  heartbeatMs: number;
  reconcileIntervalMs: number;
  staleAfterMs: number;
  /**
   * Redis Cluster: the seed nodes (`url` is the first) and how soon after a node stops answering the
   * client reads the topology again. Absent: one node (or a primary with replicas) at `url`.
   */
  cluster?: ResolvedRedisCluster;
}

// KEYS: entries, version, epoch, digest. ARGV: channel, prune margin (ms), an epoch id for a store
// that has none, then triples: the member without its expiry, the writer's expiry, and a lifetime
// (ms) the entry must have at least by Redis's clock (0 when writing back an entry as it is).
// Returns { version, digest, members added, 1 if this call created the epoch }.
// Expired members are pruned by Redis's own clock (TIME), less a margin, never by the writer's: one
// writer whose clock runs ahead would otherwise delete revocations whose tokens still live. Pruning
// is bounded per call (1 000 members) so a script never blocks Redis long.
const WRITE_SCRIPT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local cut = nowMs - tonumber(ARGV[2])
local held = redis.call('GET', KEYS[4])
local d1, d2 = 0, 0
if held then
  d1 = tonumber(string.sub(held, 1, 8), 16) or 0
  d2 = tonumber(string.sub(held, 9, 16), 16) or 0
end
local function mix(member)
  local h = redis.sha1hex(member)
  d1 = bit.bxor(d1, tonumber(string.sub(h, 1, 8), 16))
  d2 = bit.bxor(d2, tonumber(string.sub(h, 9, 16), 16))
end
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. cut, 'LIMIT', 0, 1000)
for _, member in ipairs(gone) do
  redis.call('ZREM', KEYS[1], member)
  mix(member)
end
local added = {}
for i = 4, #ARGV, 3 do
  local expiry = math.max(tonumber(ARGV[i + 1]), nowMs + tonumber(ARGV[i + 2]))
  if expiry > cut then
    local member = ARGV[i] .. '\\t' .. string.format('%d', expiry)
    if redis.call('ZADD', KEYS[1], 'NX', expiry, member) == 1 then
      mix(member)
      added[#added + 1] = member
    end
  end
end
local created = 0
if redis.call('SET', KEYS[3], ARGV[3], 'NX') then created = 1 end
local digest = bit.tohex(d1, 8) .. bit.tohex(d2, 8) .. ':' .. redis.call('ZCARD', KEYS[1])
if #added == 0 and #gone == 0 then
  return { tonumber(redis.call('GET', KEYS[2]) or '0'), digest, 0, created }
end
redis.call('SET', KEYS[4], digest)
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], version .. '\\n' .. digest .. '\\n' .. table.concat(added, '\\n'))
return { version, digest, #added, created }`;

// KEYS: entries, version, epoch, digest. What a heartbeat compares: { version, epoch, digest }.
// An empty set's digest is the XOR of nothing and a count of 0, whatever the digest key says.
const STATE_SCRIPT = `
local count = redis.call('ZCARD', KEYS[1])
local digest = redis.call('GET', KEYS[4])
if not digest or count == 0 then digest = '0000000000000000:' .. count end
return { tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('GET', KEYS[3]) or false, digest }`;

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
type Cluster = RedisClusterClient;
/** One command, routed (on a cluster) to the master of the list's slot; `bytes`: blob strings as Buffers. */
type Send = (args: string[], options: { timeout: number }, bytes?: boolean) => Promise<unknown>;

/**
 * On a cluster every key and the channel carry the prefix's `{…}` hash tag, so they share one slot and
 * one shard: each script is single-slot, and a sharded message (SPUBLISH) reaches only that shard's
 * nodes. Outside a cluster the script publishes with PUBLISH, as before.
 */
const CLUSTER_WRITE_SCRIPT = WRITE_SCRIPT.replace("redis.call('PUBLISH'", "redis.call('SPUBLISH'");
type Keys = { entries: string; version: string; epoch: string; digest: string; channel: string };

/** The store's state as one script reads it: what a heartbeat compares with the mirror's. */
interface StoreState {
  version: number;
  epoch: string | null;
  digest: string;
}

/** What messages (and write-backs) brought during a full read. */
interface ReadProgress {
  /** Their versions. */
  versions: Set<number>;
  /** The highest of them, and the store's digest at it. */
  top: number;
  digest: string;
  /** Members the mirror now holds exactly as the store spells them (counted once, not again in a page). */
  members: Set<string>;
}

/** Keeps a mirror in step with a Redis sorted set; see the module comment for the layout. */
export class RedisStore implements RevocationStore {
  readonly ready: Promise<void>;
  readonly #settings: ResolvedRedisSettings;
  readonly #sink: MirrorSink;
  /** The single-node clients (absent on a cluster). */
  readonly #client: Client | undefined;
  readonly #subscriber: Client | undefined;
  /** The cluster client (absent on one node): commands and the sharded subscription both go through it. */
  readonly #cluster: Cluster | undefined;
  readonly #send: Send;
  readonly #keys: Keys;
  readonly #timers: NodeJS.Timeout[] = [];
  /** The highest change version the mirror has applied in order (-1: no full read yet). */
  #version = -1;
  /** The store's digest at `#version`. */
  #digest = '';
  /** A version the store reported at `sentAt`; when the mirror reaches it, it was current at `sentAt`. */
  #pending: { version: number; sentAt: number; heartbeats: number } | undefined;
  #heartbeatSeq = 0;
  #heartbeatInFlight: { seq: number; sentAt: number } | undefined;
  #resyncing: Promise<void> | undefined;
  #resyncAgain: ResyncReason | undefined;
  /** What messages brought during a full read: their versions, the digest of the highest, and their members. */
  #duringRead: ReadProgress | undefined;
  /** The store's identity when the mirror last read it: a new one means the store lost its data. */
  #epoch: string | null | undefined;
  /** This process found the store without an epoch and gave it one (an empty or unused prefix). */
  #createdEpoch = false;
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
      digest: `${prefix}digest`,
      channel: `${prefix}changes:2`,
    };
    const socket = redisSocket(settings.connectTimeoutMs);
    if (settings.cluster) {
      const cluster = createRedisCluster(settings.cluster, socket);
      this.#cluster = cluster;
      this.#client = undefined;
      this.#subscriber = undefined;
      const bytes = cluster.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const slotKey = this.#keys.entries;
      this.#send = (args, options, asBytes) =>
        (asBytes ? bytes : cluster).sendCommand(slotKey, false, args, options) as Promise<unknown>;
      cluster.on('error', (error: Error) => this.#failed(error));
      // A node client (the sharded subscriber included) that connects again after a failover or a
      // topology change: the mirror may have missed messages meanwhile, so it reads everything again.
      cluster.on('node-ready', () => {
        if (this.#started) this.#resync('reconnect');
      });
    } else {
      const client: Client = createClient({
        url: settings.url,
        // A revocation must fail at once while Redis is away, not wait in a queue the caller cannot see.
        disableOfflineQueue: true,
        socket,
      }) as Client;
      this.#client = client;
      this.#subscriber = client.duplicate();
      this.#cluster = undefined;
      const bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      this.#send = (args, options, asBytes) =>
        (asBytes ? bytes : client).sendCommand(args, options) as Promise<unknown>;
      for (const one of [client, this.#subscriber]) {
        // node-redis throws on an 'error' without a listener; it reconnects by itself.
        one.on('error', (error: Error) => this.#failed(error));
      }
      this.#subscriber.on('ready', () => {
        if (this.#started) this.#resync('reconnect');
      });
    }
    this.ready = this.#start();
    this.ready.catch(() => {});
  }

  async write(entry: RevocationEntry, minLifetimeMs = 0): Promise<WriteOutcome> {
    try {
      const [, , , created] = await this.#writeMembers([entry], minLifetimeMs);
      if (created) this.#createdEpoch = true;
      return { createdStore: this.#createdEpoch };
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
      [this.#client, this.#subscriber, this.#cluster].map(async (client) => {
        if (client === undefined || !client.isOpen) return;
        // A graceful close waits for replies: a paused or half-open server would hold it forever.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#settings.commandTimeoutMs);
        });
        try {
          await Promise.race([client.close(), late]);
        } catch {
          // destroyed below
        } finally {
          clearTimeout(timer);
        }
        if (client.isOpen) client.destroy();
      }),
    );
  }

  /** One call of the write script: `[version, digest, added, created]`. */
  async #writeMembers(
    entries: Iterable<RevocationEntry>,
    minLifetimeMs: number,
  ): Promise<[number, string, number, number]> {
    const args = [
      'EVAL',
      this.#cluster ? CLUSTER_WRITE_SCRIPT : WRITE_SCRIPT,
      '4',
      this.#keys.entries,
      this.#keys.version,
      this.#keys.epoch,
      this.#keys.digest,
      this.#keys.channel,
      String(PRUNE_MARGIN_MS),
      randomUUID(),
    ];
    const lifetime = String(minLifetimeMs);
    for (const entry of entries) {
      const member = encodeEntry(entry);
      args.push(member.slice(0, member.lastIndexOf('\t')), String(entry.expiresAt), lifetime);
    }
    const timeout = args.length > 100 ? Math.max(this.#settings.commandTimeoutMs, 10_000) : undefined;
    const reply = (await this.#send(args, {
      timeout: timeout ?? this.#settings.commandTimeoutMs,
    })) as [number, string, number, number];
    return [Number(reply[0]), String(reply[1]), Number(reply[2]), Number(reply[3])];
  }

  async #state(): Promise<StoreState> {
    const reply = (await this.#send(
      [
        'EVAL',
        STATE_SCRIPT,
        '4',
        this.#keys.entries,
        this.#keys.version,
        this.#keys.epoch,
        this.#keys.digest,
      ],
      { timeout: this.#settings.commandTimeoutMs },
    )) as [number, string | null, string];
    return { version: Number(reply[0]), epoch: reply[1] ?? null, digest: String(reply[2]) };
  }

  #failed(error: Error): void {
    this.#sink.failed(error);
    publish('storeError', () => ({ error }));
  }

  async #start(): Promise<void> {
    // Subscribe before the full read: a change made during the read arrives as a message.
    if (this.#cluster) {
      await this.#connect(this.#cluster);
      await this.#cluster.sSubscribe(this.#keys.channel, (message) => this.#onMessage(message));
    } else {
      const [client, subscriber] = [this.#client as Client, this.#subscriber as Client];
      await Promise.all([this.#connect(client), this.#connect(subscriber)]);
      await subscriber.subscribe(this.#keys.channel, (message) => this.#onMessage(message));
    }
    this.#started = true;
    const report = await readStoreSettings(this.#send, this.#settings.commandTimeoutMs);
    this.#sink.storeSettings(report);
    publish('storeSettings', () => report);
    await this.#resync('start');
    this.#every(() => this.#heartbeat(), this.#settings.heartbeatMs);
    this.#every(() => this.#resync('period'), this.#settings.reconcileIntervalMs);
  }

  /** Connect, retrying until it works or the store is closed. */
  async #connect(client: { connect(): Promise<unknown> }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new Error('closed');
      try {
        await client.connect();
        return;
      } catch (error) {
        this.#failed(error as Error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** Math.min(attempt, 6), 2_000)));
      }
    }
  }

  #onMessage(message: string): void {
    const lines = message.split('\n');
    const version = Number(lines[0]);
    const digest = lines[1] ?? '';
    const reading = this.#duringRead;
    for (let i = 2; i < lines.length; i++) {
      const member = lines[i] as string;
      const entry = decodeEntry(member);
      if (entry === undefined) continue;
      // Held exactly as the store holds it: the full read under way must not count it twice.
      if (this.#sink.apply(entry) && reading) reading.members.add(member);
    }
    if (!Number.isSafeInteger(version)) return;
    if (this.#version < 0 || this.#resyncing) {
      // The full read under way decides the version; remember what the messages brought.
      if (reading) {
        reading.versions.add(version);
        if (version > reading.top) {
          reading.top = version;
          reading.digest = digest;
        }
      }
      return;
    }
    if (version === this.#version + 1) {
      this.#version = version;
      this.#digest = digest;
      this.#settle();
    } else if (version > this.#version + 1) {
      this.#resync('lost-message'); // a gap: a message between them never came
    } else if (version < this.#version) {
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
    let state: StoreState;
    try {
      state = await this.#state();
    } catch (error) {
      this.#sink.failed(error as Error);
      return; // no confirmation: the mirror grows stale until Redis answers again
    } finally {
      if (this.#heartbeatInFlight?.seq === seq) this.#heartbeatInFlight = undefined;
    }
    if (seq !== this.#heartbeatSeq || this.#resyncing || !this.#subscribed()) return;
    if (state.version < this.#version || state.epoch !== this.#epoch) {
      this.#resync('store-reset');
    } else if (state.version === this.#version) {
      if (state.digest !== this.#digest) {
        // Same count of changes, other content: members went (or came) without a message.
        this.#resync('digest');
        return;
      }
      this.#pending = undefined;
      this.#sink.confirmed(now);
    } else if (this.#pending && this.#pending.heartbeats >= 1) {
      // A heartbeat later the messages still have not reached what the store had: one was lost.
      this.#pending = undefined;
      this.#resync('lost-message');
    } else {
      this.#pending = {
        version: state.version,
        sentAt: now,
        heartbeats: (this.#pending?.heartbeats ?? -1) + 1,
      };
    }
  }

  /** Read the whole set again (one read at a time; a request during a read runs once after it). */
  #resync(reason: ResyncReason): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (reason === 'reconnect' || reason === 'store-reset' || reason === 'digest') {
      // The store may not be the one whose versions the mirror counted (a restart, a failover to a
      // replica with another history): a message must not advance the mirror until a full read has
      // said where it stands, and a failed read is tried again.
      this.#version = -1;
      this.#pending = undefined;
    }
    if (this.#resyncing) {
      this.#resyncAgain ??= reason;
      return this.#resyncing;
    }
    const run = async (): Promise<void> => {
      let current: ResyncReason | undefined = reason;
      let failures = 0;
      while (current !== undefined && !this.#closed) {
        this.#resyncAgain = undefined;
        try {
          await this.#readAll(current);
          failures = 0;
        } catch (error) {
          this.#failed(error as Error);
          // Keep trying until a read succeeds (the mirror cannot be confirmed meanwhile).
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures++, 2_000)));
          this.#resyncAgain ??= current;
        } finally {
          this.#duringRead = undefined;
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
    const reading: ReadProgress = { versions: new Set(), top: -1, digest: '', members: new Set() };
    this.#duringRead = reading;
    const timeout = this.#settings.commandTimeoutMs;
    // A Redis that restarted without persistence (or was flushed) has no epoch: this read gives it one.
    const created = await this.#send(['SET', this.#keys.epoch, randomUUID(), 'NX'], { timeout });
    if (created !== null) this.#createdEpoch = true;
    const state = await this.#state();
    // The digest ends with the member count: room for them all, before the first page arrives.
    this.#sink.reserve(Number(state.digest.slice(state.digest.indexOf(':') + 1)) || 0);
    // Pages by rank from the latest expiry down. Members are only ever removed from the bottom
    // (expired ones) and new ones mostly land at the top, so a change during the read can make a page
    // repeat a member, never skip one; a member added meanwhile also arrives as a message.
    let entries = 0;
    // Entries the mirror now holds exactly as the store spells them: its entries the store lacks are
    // the mirror's size less these.
    let covered = 0;
    const pageTimeout = Math.max(this.#settings.commandTimeoutMs, 10_000);
    let more = true;
    // Members come as bytes: decodeMember reads them without a string or an object per member.
    let now = this.#sink.now();
    let live = 0;
    let countable = true;
    // What a bytes path answered: `undefined` sends the member the string way.
    const tookBytes = (applied: boolean | undefined): boolean => {
      if (applied === undefined) return false;
      if (applied && countable) covered++;
      live++;
      return true;
    };
    const visit: MemberVisitor = {
      sessionBytes: (member, start, end, expiresAt) =>
        expiresAt <= now || tookBytes(this.#sink.applySessionBytes(member, start, end, expiresAt, now)),
      ownedSessionBytes: (member, start, end, poolStart, poolEnd, subStart, subEnd, expiresAt) =>
        expiresAt <= now ||
        tookBytes(
          this.#sink.applyOwnedSessionBytes(
            member,
            start,
            end,
            poolStart,
            poolEnd,
            subStart,
            subEnd,
            expiresAt,
            now,
          ),
        ),
      session: (originJti, expiresAt, userPoolId, sub) => {
        if (expiresAt <= now) return;
        if (this.#sink.applySession(originJti, expiresAt, now, userPoolId, sub) && countable) covered++;
        live++;
      },
      other: (entry) => {
        if (entry.expiresAt <= now) return;
        if (this.#sink.apply(entry) && countable) covered++;
        live++;
      },
    };
    // A few pages in flight at once: each round trip waits for two processes to get a core, which
    // on a busy host costs more than the pages themselves.
    const fetchPages = (start: number) =>
      Promise.all(
        Array.from(
          { length: PAGES_IN_FLIGHT },
          (_, i) =>
            this.#send(
              [
                'ZRANGE',
                this.#keys.entries,
                String(start + i * PAGE),
                String(start + (i + 1) * PAGE - 1),
                'REV',
              ],
              { timeout: pageTimeout },
              true,
            ) as Promise<Buffer[]>,
        ),
      );
    // The next pages are asked for before these are decoded, so Redis and this process work at once.
    let next = fetchPages(0);
    let previousLast: Buffer | undefined;
    for (let start = 0; more; start += PAGE * PAGES_IN_FLIGHT) {
      const pages = await next;
      next = fetchPages(start + PAGE * PAGES_IN_FLIGHT);
      now = this.#sink.now();
      for (const members of pages) {
        live = 0;
        // Members a shift repeated at the top of this page were counted on the page before.
        const repeated = previousLast === undefined ? 0 : repeatsAtTop(members, previousLast);
        for (let i = 0; i < members.length; i++) {
          const member = members[i] as Buffer;
          countable =
            i >= repeated && (reading.members.size === 0 || !reading.members.has(member.toString('utf8')));
          decodeMember(member, visit);
        }
        entries += live;
        previousLast = members.at(-1) ?? previousLast;
        // Short page: the end. A page without a live entry: the rest has expired (or is not ours).
        if (members.length < PAGE || live === 0) {
          more = false;
          break;
        }
      }
    }
    // Past the end: nothing to read in those pages, and a failure there changes nothing.
    next.catch(() => {});
    // Entries this mirror holds and the store lacks go back through the write script: versioned and
    // published, so every mirror (and every process started later) gets them.
    covered += reading.members.size;
    this.#sink.sweep(sentAt);
    const lacking = this.#sink.size() - covered;
    if (lacking > 0) await this.#reseed(reason, lacking, state, reading);
    // Messages applied during the read may be past the state read; never step back over them.
    let version = state.version;
    let digest = state.digest;
    if (reading.top > version) {
      version = reading.top;
      digest = reading.digest;
      for (let v = state.version + 1; v < reading.top; v++) {
        if (!reading.versions.has(v)) this.#resyncAgain ??= 'lost-message';
      }
    }
    this.#epoch = state.epoch ?? (await this.#state()).epoch;
    this.#version = version;
    this.#digest = digest;
    this.#pending = undefined;
    if (this.#subscribed()) this.#sink.confirmed(sentAt);
    publish('resync', () => ({ reason, entries, durationMs: performance.now() - startedAt }));
  }

  /** Write back the mirror's entries the store lacks (the script adds only those, and publishes them). */
  async #reseed(
    reason: ResyncReason,
    lacking: number,
    state: StoreState,
    reading: ReadProgress,
  ): Promise<void> {
    let added = 0;
    let batch: RevocationEntry[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const [version, digest, count] = await this.#writeMembers(batch, 0);
      added += count;
      batch = [];
      if (count > 0) {
        reading.versions.add(version);
        if (version > reading.top) {
          reading.top = version;
          reading.digest = digest;
        }
      }
    };
    for (const entry of this.#sink.entries()) {
      batch.push(entry);
      if (batch.length >= RESEED_BATCH) await flush();
    }
    await flush();
    publish('reseed', () => ({
      reason,
      lacking,
      entries: added,
      storeVersion: state.version,
      mirrorVersion: this.#version,
    }));
  }

  /** The subscription can deliver messages: its connection is up (on a cluster, the cluster client's). */
  #subscribed(): boolean {
    return this.#cluster ? this.#cluster.isReady : (this.#subscriber as Client).isReady;
  }

  #every(run: () => unknown, everyMs: number): void {
    const timer = setInterval(() => void run(), everyMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

/**
 * What the store's settings risk, from `INFO memory` and `INFO persistence` (which managed services
 * such as ElastiCache and MemoryDB answer), and `CONFIG GET save` where it is allowed (they refuse
 * it). Never throws: what cannot be read is reported as unknown.
 */
export async function readStoreSettings(
  client: Client | Send,
  timeout: number,
): Promise<StoreSettingsReport> {
  const send: Send =
    typeof client === 'function' ? client : (args, options) => client.sendCommand(args, options);
  const info = async (section: string) => {
    try {
      const text = String(await send(['INFO', section], { timeout }));
      return Object.fromEntries(
        text
          .split(/\r?\n/)
          .filter((line) => line.includes(':') && !line.startsWith('#'))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
      ) as Record<string, string>;
    } catch {
      return undefined;
    }
  };
  const memory = await info('memory');
  const persistenceInfo = await info('persistence');
  const warnings: string[] = [];
  const maxmemoryPolicy = memory?.maxmemory_policy;
  if (maxmemoryPolicy === undefined) {
    warnings.push(
      'could not read maxmemory_policy (INFO memory did not answer): make sure it is noeviction or volatile-*, or Redis may evict the revocation list',
    );
  } else if (maxmemoryPolicy.startsWith('allkeys-')) {
    warnings.push(
      `maxmemory_policy is ${maxmemoryPolicy}: under memory pressure Redis may evict the revocation list (its keys have no TTL). Running mirrors write back what they hold, but a process started after an eviction with no mirror left misses it. Use noeviction or a volatile-* policy`,
    );
  }
  let persistence: StoreSettingsReport['persistence'] = 'unknown';
  if (persistenceInfo?.aof_enabled === '1') persistence = 'aof';
  else {
    let save: string | undefined;
    try {
      const reply = (await send(['CONFIG', 'GET', 'save'], { timeout })) as unknown;
      const values = Array.isArray(reply) ? reply : Object.entries(reply as object).flat();
      save = values.length >= 2 ? String(values[1]) : undefined;
    } catch {
      save = undefined; // managed services refuse CONFIG
    }
    if (save !== undefined) persistence = save.trim() === '' ? 'off' : 'rdb';
    else if (persistenceInfo !== undefined) {
      const saves = Number(persistenceInfo.rdb_saves ?? 0);
      const lastSave = persistenceInfo.rdb_last_bgsave_time_sec;
      persistence = saves > 0 || (lastSave !== undefined && lastSave !== '-1') ? 'rdb' : 'unknown';
    }
  }
  if (persistence === 'off') {
    warnings.push(
      'persistence is off (appendonly no, no save schedule): a restart empties the revocation list. Running mirrors write back what they hold; a revocation no running process holds is lost. Turn on appendonly (or a save schedule)',
    );
  } else if (persistence === 'unknown') {
    warnings.push(
      'could not tell whether Redis persists its data (no AOF, CONFIG refused, no RDB save seen yet): if a restart can empty it, a revocation no running process holds is lost. MemoryDB is durable by design; on ElastiCache turn on AOF or backups',
    );
  }
  return { maxmemoryPolicy, persistence, warnings };
}

/** Entries written back per script call. */
const RESEED_BATCH = 5_000;

/** How many members at the top of `page` repeat the previous page's last one (a shift by new members). */
function repeatsAtTop(page: readonly Buffer[], previousLast: Buffer): number {
  const limit = Math.min(page.length, 1_000);
  for (let i = 0; i < limit; i++) if ((page[i] as Buffer).equals(previousLast)) return i + 1;
  return 0;
}

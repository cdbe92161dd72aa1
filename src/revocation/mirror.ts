import type { RevocationEntry } from './entries.ts';
import { poolIdOfIssuer } from './entries.ts';
import { SessionOwners } from './session-owners.ts';
import { SessionTable } from './session-table.ts';

/** The claims a revocation check reads; verified `CognitoClaims` have them all. */
export interface RevocationClaims {
  readonly iss?: unknown;
  readonly sub?: unknown;
  readonly iat?: unknown;
  readonly origin_jti?: unknown;
}

interface Cutoff {
  seconds: number;
  expiresAt: number;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Issuers remembered with their pool id; a verifier accepts a handful, so this never fills in practice. */
const MAX_KNOWN_ISSUERS = 256;

/** The bucket of sessions revoked without their pool: capped like a pool, never folded. */
export const NO_POOL = '';

/** Where a pool's entries stand against the cap: `ok`, `warning` (80 %), `full` (at the cap, folding), `overflow`. */
export type CapacityLevel = 'ok' | 'warning' | 'full' | 'overflow';

/** What the mirror reports when a pool crosses a level of its cap. */
export interface CapacityReport {
  /** The pool, or `''` for sessions revoked without one. */
  userPoolId: string;
  level: CapacityLevel;
  entries: number;
  cap: number;
  /** Sessions folded into their users' cut-offs so far in this pool. */
  folded: number;
}

/** One pool's entries against the cap. */
interface PoolLoad {
  /** The pool's id (or {@link NO_POOL}), the one string every entry of the pool refers to. */
  readonly pool: string;
  entries: number;
  level: CapacityLevel;
  folded: number;
  /**
   * Overflow: every token of the pool issued at or before `seconds` is refused, until `expiresAt`
   * (the latest expiry of an entry the mirror could not hold).
   */
  overflow: Cutoff | undefined;
}

/**
 * The in-memory copy of a revocation list that answers every check: a table of sessions and a map of users, no I/O. Entries are
 * only ever added or made longer-lived here, and only {@link sweep} removes them, when they expire:
 * a store that lost its data (a Redis restart without persistence) cannot un-revoke anything.
 *
 * Each pool holds at most `maxEntriesPerPool` entries. At the cap the sessions of every user with
 * more than one are folded into one cut-off per user (a later cut-off, never an earlier one); when
 * that does not free room the pool overflows: every token of the pool issued at or before the newest
 * entry it could not hold is refused (a pool-wide cut-off), so nothing revoked is ever accepted.
 */
export class RevocationMirror {
  /** origin_jti → expiry (epoch ms), and its owner's index in {@link #owners} (0: none). */
  readonly #sessions = new SessionTable((owner, slot) => this.#owners.moved(owner, slot));
  /** The users who own held sessions: the table keeps each one's index beside its sessions. */
  readonly #owners = new SessionOwners(this.#sessions);
  /** pool id → sub → cut-off. Two levels, so a check builds no string. */
  readonly #users = new Map<string, Map<string, Cutoff>>();
  #userCount = 0;
  /** issuer → its pool's cut-offs (`null`: none): one lookup per check instead of issuer → pool → subs. */
  readonly #subsByIssuer = new Map<string, Map<string, Cutoff> | null>();
  /** pool id (or {@link NO_POOL}) → its load against the cap. */
  readonly #pools = new Map<string, PoolLoad>();
  /** Pools in overflow: their pool-wide cut-offs (checked only while there is one). */
  readonly #overflows = new Map<string, Cutoff>();
  readonly #cap: number;
  /** The pool of the last owned session added, and its name as bytes: what {@link applyOwnedSessionBytes} takes. */
  #lastOwnedLoad: PoolLoad | undefined;
  #lastOwnedPool = new Uint8Array(0);
  readonly #onCapacity: (report: CapacityReport) => void;

  constructor(options: { maxEntriesPerPool?: number; onCapacity?: (report: CapacityReport) => void } = {}) {
    this.#cap = options.maxEntriesPerPool ?? Number.POSITIVE_INFINITY;
    this.#onCapacity = options.onCapacity ?? (() => {});
  }

  get size(): number {
    return this.#sessions.size + this.#userCount;
  }

  /** Make room for `entries` sessions at once (a full read knows how many are coming). */
  reserve(entries: number): void {
    this.#sessions.reserve(entries);
  }

  /** Entries held per pool (`''`: sessions revoked without their pool), and each pool's level. */
  pools(): { userPoolId: string; entries: number; level: CapacityLevel; folded: number }[] {
    return [...this.#pools].map(([userPoolId, load]) => ({
      userPoolId,
      entries: load.entries,
      level: load.level,
      folded: load.folded,
    }));
  }

  /**
   * Add an entry, or extend one (a later cut-off, a later expiry); an expired entry is ignored.
   * `true` when the mirror now holds the entry exactly as given (nothing later, not folded).
   */
  apply(entry: RevocationEntry, now: number): boolean {
    if (entry.kind === 'session') {
      return this.applySession(
        entry.originJti,
        entry.expiresAt,
        now,
        entry.owner?.userPoolId,
        entry.owner?.sub,
      );
    }
    if (entry.expiresAt <= now) return false;
    return this.#applyCutoff(entry.userPoolId, entry.sub, entry.cutoffSeconds, entry.expiresAt, now);
  }

  /**
   * {@link apply} for a revoked session, without an entry object (its owner, when known, as
   * `userPoolId` and `sub`): a full read of the store passes every session through here.
   *
   * ```ts
   * mirror.applySession('6f1c0f5e-8e0a-4b47-9d4c-3f0f2a7d9b10', Date.now() + 86_400_000, Date.now());
   * ```
   */
  applySession(
    originJti: string,
    expiresAt: number,
    now: number,
    userPoolId?: string,
    sub?: string,
  ): boolean {
    if (expiresAt <= now) return false;
    const held = this.#sessions.get(originJti);
    if (held !== undefined) {
      if (held < expiresAt) this.#sessions.set(originJti, expiresAt);
      return held <= expiresAt;
    }
    const owned = userPoolId !== undefined && sub !== undefined;
    if (owned) {
      // A user whose sessions were folded: this one is covered by the cut-off when it is older.
      const cutoff = this.#users.get(userPoolId)?.get(sub);
      if (cutoff !== undefined && this.#foldedInto(cutoff, expiresAt, now)) return false;
    }
    const load = this.#load(owned ? userPoolId : NO_POOL);
    // The pool's name as the mirror holds it: one string per pool, however many entries.
    const pool = load.pool;
    if (load.entries >= this.#cap) {
      if (owned && pool !== NO_POOL && this.#hasAny(pool, sub)) {
        // The user already holds entries: this session joins them in one cut-off (no growth), so
        // one user signing out over and over never fills the pool.
        this.#applyFold(pool, sub, Math.ceil(now / 1000), expiresAt);
        load.folded++;
        this.#publish(pool, load, 'full');
        return false;
      }
      if (load.overflow !== undefined || !this.#makeRoom(pool, load, now)) {
        this.#overflow(pool, load, expiresAt, now);
        return false;
      }
    }
    load.entries++;
    if (!owned) {
      this.#sessions.set(originJti, expiresAt);
    } else {
      const owner = this.#owners.user(pool, sub);
      this.#owners.attach(owner, this.#sessions.set(originJti, expiresAt, owner), originJti);
      if (this.#lastOwnedLoad !== load) {
        this.#lastOwnedLoad = load;
        this.#lastOwnedPool = utf8.encode(pool);
      }
    }
    this.#review(pool, load);
    return true;
  }

  /**
   * {@link applySession} for a session without an owner whose id is `bytes[start..end)` (a member of
   * a full read), without a string: `undefined` when the bytes are not a lowercase UUID or the pool
   * is at its cap, for the caller to take the string way.
   */
  applySessionBytes(
    bytes: Uint8Array,
    start: number,
    end: number,
    expiresAt: number,
    now: number,
  ): boolean | undefined {
    if (expiresAt <= now) return false;
    const held = this.#heldBytes(bytes, start, end, expiresAt);
    if (held !== undefined) return held ?? undefined;
    const load = this.#load(NO_POOL);
    if (load.entries >= this.#cap) return undefined;
    load.entries++;
    this.#sessions.setLastBytes(expiresAt);
    this.#review(NO_POOL, load);
    return true;
  }

  /**
   * The bytes path's lookup of a session id, for both bytes methods: for a held id, their answer
   * (its expiry raised to the member's if that is later); `null` when the id is no lowercase UUID;
   * `undefined` when it is not held (the table remembers where it would go).
   */
  #heldBytes(bytes: Uint8Array, start: number, end: number, expiresAt: number): boolean | null | undefined {
    const held = this.#sessions.getBytes(bytes, start, end);
    if (held === null || held === undefined) return held;
    if (held < expiresAt) this.#sessions.setLastBytes(expiresAt);
    return held <= expiresAt;
  }

  /**
   * {@link applySessionBytes} for a session with its owner: its id is `bytes[start..end)`, its pool
   * `bytes[poolStart..poolEnd)` and its sub `bytes[subStart..subEnd)`. Only a pool the last owned
   * session added through {@link applySession} named is taken this way (a full read brings a pool's
   * sessions by the thousand): `undefined` for another, for the caller to take the string way once.
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
  ): boolean | undefined {
    if (expiresAt <= now) return false;
    const held = this.#heldBytes(bytes, start, end, expiresAt);
    if (held !== undefined) return held ?? undefined;
    const load = this.#lastOwnedLoad;
    if (
      load === undefined ||
      load.entries >= this.#cap ||
      !sameBytes(this.#lastOwnedPool, bytes, poolStart, poolEnd)
    ) {
      return undefined;
    }
    const pool = load.pool;
    // A user whose sessions were folded: this one is covered by the cut-off when it is older.
    const cutoffs = this.#users.get(pool);
    const cutoff = cutoffs?.get(utf8Decoder.decode(bytes.subarray(subStart, subEnd)));
    if (cutoff !== undefined && this.#foldedInto(cutoff, expiresAt, now)) return false;
    const owner = this.#owners.userBytes(pool, bytes, subStart, subEnd);
    if (owner === undefined) return undefined;
    load.entries++;
    this.#owners.attach(owner, this.#sessions.setLastBytes(expiresAt, owner));
    this.#review(pool, load);
    return true;
  }

  /** Whether these claims are revoked: their session is listed, or they were issued at or before their user's cut-off. */
  has(claims: RevocationClaims): boolean {
    const originJti = claims.origin_jti;
    if (typeof originJti === 'string' && this.#sessions.has(originJti)) return true;
    if (this.#overflows.size !== 0 && this.#overflowed(claims)) return true;
    if (this.#userCount === 0) return false;
    const issuer = claims.iss;
    if (typeof issuer !== 'string') return false;
    let bySub = this.#subsByIssuer.get(issuer);
    if (bySub === undefined) bySub = this.#learnIssuer(issuer);
    if (bySub === null) return false;
    const cutoff = bySub.get(claims.sub as string);
    if (cutoff === undefined) return false;
    return issuedBy(claims, cutoff);
  }

  /** Drop the entries whose expiry has passed; returns how many. */
  sweep(now: number): number {
    let dropped = this.#sessions.deleteExpired(now, (originJti, owner) =>
      this.#uncountSession(originJti, owner),
    );
    for (const [pool, bySub] of this.#users) {
      for (const [sub, cutoff] of bySub) {
        if (cutoff.expiresAt <= now) {
          bySub.delete(sub);
          this.#userCount--;
          this.#uncount(pool);
          dropped++;
        }
      }
      if (bySub.size === 0) {
        this.#users.delete(pool);
        this.#subsByIssuer.clear();
      }
    }
    for (const [pool, cutoff] of this.#overflows) {
      if (cutoff.expiresAt <= now) {
        this.#overflows.delete(pool);
        const load = this.#pools.get(pool);
        if (load !== undefined) {
          load.overflow = undefined;
          this.#review(pool, load);
        }
      }
    }
    for (const [pool, load] of this.#pools) {
      if (load.entries === 0 && load.overflow === undefined) {
        this.#pools.delete(pool);
        if (this.#lastOwnedLoad === load) this.#lastOwnedLoad = undefined;
      } else {
        this.#review(pool, load);
      }
    }
    return dropped;
  }

  /**
   * Every entry held: what a store that lost data gets back. A pool's overflow cut-off is not one
   * (it stands for entries the store holds), nor is it counted in {@link size}.
   */
  *entries(): IterableIterator<RevocationEntry> {
    for (const [originJti, expiresAt, index] of this.#sessions.entries()) {
      const owner = this.#owners.owner(index);
      yield owner === undefined
        ? { kind: 'session', originJti, expiresAt }
        : { kind: 'session', originJti, expiresAt, owner };
    }
    for (const [userPoolId, bySub] of this.#users) {
      for (const [sub, { seconds, expiresAt }] of bySub) {
        yield { kind: 'user', userPoolId, sub, cutoffSeconds: seconds, expiresAt };
      }
    }
  }

  #applyCutoff(pool: string, sub: string, seconds: number, expiresAt: number, now: number): boolean {
    let bySub = this.#users.get(pool);
    if (bySub === undefined) {
      bySub = new Map();
      this.#users.set(pool, bySub);
      this.#subsByIssuer.clear(); // issuers of this pool may be remembered as having no cut-offs
    }
    const held = bySub.get(sub);
    if (held !== undefined) {
      held.seconds = Math.max(held.seconds, seconds);
      held.expiresAt = Math.max(held.expiresAt, expiresAt);
      this.#dropFolded(pool, sub, held);
      return held.seconds === seconds && held.expiresAt === expiresAt;
    }
    const load = this.#load(pool);
    // A cut-off of a user with sessions held replaces them: room is made by that user first.
    if (
      load.entries >= this.#cap &&
      this.#owners.find(pool, sub) === 0 &&
      (load.overflow !== undefined || !this.#makeRoom(pool, load, now))
    ) {
      this.#overflow(pool, load, expiresAt, now);
      return false;
    }
    const cutoff = { seconds, expiresAt };
    bySub.set(sub, cutoff);
    this.#userCount++;
    load.entries++;
    this.#dropFolded(pool, sub, cutoff);
    this.#review(pool, load);
    return true;
  }

  /** A session of a user with a cut-off that covers it (revoked no later, with the same lifetime). */
  #foldedInto(cutoff: Cutoff, expiresAt: number, now: number): boolean {
    return cutoff.expiresAt >= expiresAt && cutoff.expiresAt > now;
  }

  /** Drop the sessions of `sub` that `cutoff` now covers. */
  #dropFolded(pool: string, sub: string, cutoff: Cutoff): void {
    const load = this.#pools.get(pool);
    const owner = this.#owners.find(pool, sub);
    if (load === undefined || owner === 0) return;
    for (const originJti of this.#owners.ids(owner)) {
      const expiresAt = this.#sessions.get(originJti);
      if (expiresAt !== undefined && expiresAt <= cutoff.expiresAt) {
        this.#sessions.delete(originJti);
        this.#owners.detach(owner, originJti);
        load.entries--;
        load.folded++;
      }
    }
  }

  /**
   * At the cap: fold the sessions of every user holding more than one into one cut-off per user, at
   * `now`, living as long as the latest of them. `true` when that freed room.
   */
  #makeRoom(pool: string, load: PoolLoad, now: number): boolean {
    if (pool === NO_POOL) return false;
    const before = load.entries;
    for (const sub of this.#owners.several(pool)) {
      // Every token of these sessions was issued before now: one cut-off at this second refuses them all.
      this.#applyFold(pool, sub, Math.ceil(now / 1000), 0);
    }
    if (load.entries < before) this.#publish(pool, load, 'full');
    return load.entries < this.#cap;
  }

  #hasAny(pool: string, sub: string): boolean {
    return this.#owners.find(pool, sub) !== 0 || this.#users.get(pool)?.has(sub) === true;
  }

  /** One cut-off at `seconds` for `sub`, living as long as the latest of its sessions (and `expiresAt`); its sessions leave. */
  #applyFold(pool: string, sub: string, seconds: number, expiresAt: number): void {
    let latest = expiresAt;
    const load = this.#load(pool);
    for (const originJti of this.#owners.ids(this.#owners.find(pool, sub))) {
      latest = Math.max(latest, this.#sessions.get(originJti) ?? 0);
    }
    let bySub = this.#users.get(pool);
    if (bySub === undefined) {
      bySub = new Map();
      this.#users.set(pool, bySub);
      this.#subsByIssuer.clear();
    }
    let cutoff = bySub.get(sub);
    if (cutoff === undefined) {
      cutoff = { seconds, expiresAt: latest };
      bySub.set(sub, cutoff);
      this.#userCount++;
      load.entries++;
    } else {
      cutoff.seconds = Math.max(cutoff.seconds, seconds);
      cutoff.expiresAt = Math.max(cutoff.expiresAt, latest);
    }
    this.#dropFolded(pool, sub, cutoff);
  }

  /** No room even after folding: refuse every token of the pool issued up to now, while the entry could live. */
  #overflow(pool: string, load: PoolLoad, expiresAt: number, now: number): void {
    const seconds = Math.ceil(now / 1000);
    const held = load.overflow;
    if (held === undefined) {
      load.overflow = { seconds, expiresAt };
      this.#overflows.set(pool, load.overflow);
    } else {
      held.seconds = Math.max(held.seconds, seconds);
      held.expiresAt = Math.max(held.expiresAt, expiresAt);
    }
    this.#review(pool, load);
  }

  #overflowed(claims: RevocationClaims): boolean {
    const everyPool = this.#overflows.get(NO_POOL);
    if (everyPool !== undefined && issuedBy(claims, everyPool)) return true;
    const pool = poolIdOfIssuer(claims.iss);
    const cutoff = pool === undefined ? undefined : this.#overflows.get(pool);
    return cutoff !== undefined && issuedBy(claims, cutoff);
  }

  #load(pool: string): PoolLoad {
    let load = this.#pools.get(pool);
    if (load === undefined) {
      load = { pool, entries: 0, level: 'ok', folded: 0, overflow: undefined };
      this.#pools.set(pool, load);
    }
    return load;
  }

  #uncount(pool: string): void {
    const load = this.#pools.get(pool);
    if (load !== undefined) load.entries--;
  }

  #uncountSession(originJti: string, owner: number): void {
    const pool = this.#owners.poolOf(owner);
    if (pool === undefined) {
      this.#uncount(NO_POOL);
      return;
    }
    this.#uncount(pool);
    this.#owners.detach(owner, originJti);
  }

  /** Publish a change of level: up at 80 %, at the cap and at overflow; down once back under 80 %. */
  #review(pool: string, load: PoolLoad): void {
    if (this.#cap === Number.POSITIVE_INFINITY) return;
    const level: CapacityLevel =
      load.overflow !== undefined
        ? 'overflow'
        : load.entries >= this.#cap
          ? 'full'
          : load.entries >= this.#cap * 0.8
            ? 'warning'
            : 'ok';
    if (level === load.level) return;
    load.level = level;
    this.#publish(pool, load, level);
  }

  #publish(pool: string, load: PoolLoad, level: CapacityLevel): void {
    this.#onCapacity({ userPoolId: pool, level, entries: load.entries, cap: this.#cap, folded: load.folded });
  }

  #learnIssuer(issuer: string): Map<string, Cutoff> | null {
    if (this.#subsByIssuer.size >= MAX_KNOWN_ISSUERS) this.#subsByIssuer.clear();
    const pool = poolIdOfIssuer(issuer);
    const bySub = pool === undefined ? null : (this.#users.get(pool) ?? null);
    this.#subsByIssuer.set(issuer, bySub);
    return bySub;
  }
}

/** Whether `bytes[start..end)` spell `expected`. */
function sameBytes(expected: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

/** Inclusive at one-second resolution; a token without a numeric iat cannot prove it is newer. */
function issuedBy(claims: RevocationClaims, cutoff: Cutoff): boolean {
  const iat = claims.iat;
  return !(typeof iat === 'number' && iat > cutoff.seconds);
}

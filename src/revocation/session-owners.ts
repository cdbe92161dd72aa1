import { SessionTable } from './session-table.ts';

/**
 * The users who own the mirror's sessions (sessions revoked with their pool and sub), so one
 * user's sessions are found without a scan: to fold them into one cut-off, and to uncount each from
 * its pool when it leaves. The shape to afford is a million users with one session each, read at
 * start: a user is an index into typed arrays (its pool, its session count, the session table slot
 * of its one session, the slot of its sub), and each pool finds its users by sub in a
 * {@link SessionTable} of its own (a Cognito sub is a UUID too). No object and no string per user: a full read adds
 * nothing for the garbage collector to trace. Only a user holding several sessions gets a set of
 * their ids.
 */

/** Users at first; the arrays double when full. */
const INITIAL_USERS = 1024;
/** The slot of a user whose ids are in {@link SessionOwners}'s side map (several, or one kept aside). */
const SEVERAL = -1;

/** One pool's users. */
interface OwnerPool {
  readonly name: string;
  /** Its place in the pools' list: what each user's pool column holds. */
  readonly number: number;
  /** sub → user index: the index stands where a session's expiry would, and as its owner (told when the sub moves). */
  readonly subs: SessionTable;
}

export class SessionOwners {
  /** Pools by number (from 1: a free user index has pool 0), and their numbers by name. */
  readonly #pools: (OwnerPool | undefined)[] = [undefined];
  readonly #poolNumbers = new Map<string, number>();
  /** The pool last asked for: a full read asks for the same pool a million times. */
  #lastPool: OwnerPool | undefined;
  /**
   * Per user index (from 1: the session table's owner column holds 0 for none): its pool's number,
   * its sessions held, the session table slot of its one session ({@link SEVERAL}: see #several),
   * and the slot of its sub in its pool's table (-1: kept aside, see #asideSubs).
   */
  #poolOf = new Uint32Array(INITIAL_USERS);
  #counts = new Uint32Array(INITIAL_USERS);
  #slots = new Int32Array(INITIAL_USERS);
  #subSlots = new Int32Array(INITIAL_USERS);
  #nextUser = 1;
  readonly #freed: number[] = [];
  /** The ids of each user whose sessions the slot cannot point at. */
  readonly #several = new Map<number, Set<string>>();
  /** The subs a pool's table keeps aside (not a lowercase UUID), which it cannot spell from a slot. */
  readonly #asideSubs = new Map<number, string>();
  readonly #sessions: SessionTable;

  /** `sessions`: the table whose owner column holds these users' indexes, to spell their sessions' ids. */
  constructor(sessions: SessionTable) {
    this.#sessions = sessions;
  }

  /** The index of `sub` in `pool`, or 0 when the user holds no session. */
  find(pool: string, sub: string): number {
    return this.#pool(pool)?.subs.get(sub) ?? 0;
  }

  /** The index of `sub` in `pool`, made (with no session yet) when it has none. */
  user(pool: string, sub: string): number {
    let owners = this.#pool(pool);
    if (owners === undefined) {
      owners = {
        name: pool,
        number: this.#pools.length,
        subs: new SessionTable((index, slot) => {
          this.#subSlots[index] = slot;
        }),
      };
      this.#poolNumbers.set(pool, owners.number);
      this.#pools.push(owners);
    }
    this.#makeRoom(owners.subs);
    const found = owners.subs.get(sub);
    if (found !== undefined) return found;
    const index = this.#newUser(owners);
    const slot = owners.subs.set(sub, index, index);
    this.#subSlots[index] = slot;
    if (slot < 0) this.#asideSubs.set(index, sub);
    return index;
  }

  /**
   * {@link user} for the sub spelled by `bytes[start..end)`, in a pool that has users already,
   * without a string: `undefined` when it has none or those bytes are not a lowercase UUID (ask with
   * the string then).
   */
  userBytes(pool: string, bytes: Uint8Array, start: number, end: number): number | undefined {
    const owners = this.#pool(pool);
    if (owners === undefined) return undefined;
    this.#makeRoom(owners.subs);
    const found = owners.subs.getBytes(bytes, start, end);
    if (found === null) return undefined;
    if (found !== undefined) return found;
    const index = this.#newUser(owners);
    this.#subSlots[index] = owners.subs.setLastBytes(index, index);
    return index;
  }

  /**
   * Where a pool's table would double, grow it to this pool's share of the sessions' room instead
   * (its users per session held, times the room, which a full read sized for the whole store), and
   * at least fourfold, never past the room (users never outnumber sessions). A full read of a
   * million users then grows the table once, early, rather than moving 2 M subs on the way.
   * Called before a lookup, which growing would forget.
   */
  #makeRoom(subs: SessionTable): void {
    const users = subs.size;
    if (users < subs.room) return;
    const room = this.#sessions.room;
    const share = Math.ceil((users / Math.max(1, this.#sessions.size)) * room);
    subs.reserve(Math.max(users + 1, Math.min(Math.max(users * 4, share), room)));
  }

  /** A user index in `owners` with no session yet; its sub is for the caller to place. */
  #newUser(owners: OwnerPool): number {
    const index = this.#freed.pop() ?? this.#nextUser++;
    if (index >= this.#counts.length) this.#grow(this.#counts.length * 2);
    this.#poolOf[index] = owners.number;
    this.#counts[index] = 0;
    return index;
  }

  /**
   * User `index` now holds a session, which the session table keeps at `slot` (-1: aside, then
   * `originJti` is needed; otherwise it is spelled from the slot when needed).
   */
  attach(index: number, slot: number, originJti?: string): void {
    const count = this.#counts[index] as number;
    this.#counts[index] = count + 1;
    if (count === 0 && slot >= 0) {
      this.#slots[index] = slot;
      return;
    }
    let ids = this.#several.get(index);
    if (ids === undefined) {
      ids = count === 0 ? new Set() : new Set(this.ids(index));
      this.#several.set(index, ids);
      this.#slots[index] = SEVERAL;
    }
    ids.add(originJti ?? this.#sessions.idAt(slot));
  }

  /** User `index` no longer holds `originJti`; a user left with none is forgotten (its index reused). */
  detach(index: number, originJti: string): void {
    const count = (this.#counts[index] as number) - 1;
    this.#counts[index] = count;
    if (count > 0) {
      this.#several.get(index)?.delete(originJti);
      return;
    }
    this.#pools[this.#poolOf[index] as number]?.subs.delete(this.#subOf(index));
    this.#poolOf[index] = 0;
    this.#several.delete(index);
    this.#asideSubs.delete(index);
    this.#freed.push(index);
  }

  /** The session table moved the session of user `index` to `slot` (it grew, or closed a gap). */
  moved(index: number, slot: number): void {
    // A user with several sessions has them listed by id: only a lone session's slot is followed.
    if (this.#slots[index] !== SEVERAL) this.#slots[index] = slot;
  }

  /** The ids of user `index`'s sessions (a copy: the caller may drop them meanwhile). */
  ids(index: number): string[] {
    if (this.#counts[index] === 0) return [];
    const ids = this.#several.get(index);
    return ids === undefined ? [this.#sessions.idAt(this.#slots[index] as number)] : [...ids];
  }

  /** The pool and sub of user `index`, or `undefined` for 0 (no owner). */
  owner(index: number): { userPoolId: string; sub: string } | undefined {
    const pool = this.poolOf(index);
    return pool === undefined ? undefined : { userPoolId: pool, sub: this.#subOf(index) };
  }

  /** The pool of user `index`, or `undefined` for 0 (no owner). */
  poolOf(index: number): string | undefined {
    return this.#pools[this.#poolOf[index] as number]?.name;
  }

  /** The subs of `pool` whose users hold more than one session. */
  several(pool: string): string[] {
    const subs: string[] = [];
    for (const [sub, index] of this.#pool(pool)?.subs.entries() ?? []) {
      if ((this.#counts[index] as number) > 1) subs.push(sub);
    }
    return subs;
  }

  #subOf(index: number): string {
    const slot = this.#subSlots[index] as number;
    if (slot < 0) return this.#asideSubs.get(index) as string;
    return (this.#pools[this.#poolOf[index] as number] as OwnerPool).subs.idAt(slot);
  }

  #pool(pool: string): OwnerPool | undefined {
    if (pool === this.#lastPool?.name) return this.#lastPool;
    const owners = this.#pools[this.#poolNumbers.get(pool) ?? 0];
    if (owners !== undefined) this.#lastPool = owners;
    return owners;
  }

  #grow(users: number): void {
    this.#poolOf = grown(this.#poolOf, new Uint32Array(users));
    this.#counts = grown(this.#counts, new Uint32Array(users));
    this.#slots = grown(this.#slots, new Int32Array(users));
    this.#subSlots = grown(this.#subSlots, new Int32Array(users));
  }
}

/** `to`, holding `from` at its start. */
function grown<T extends Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

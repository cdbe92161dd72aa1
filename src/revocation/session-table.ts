/**
 * The revoked sessions of a mirror: `origin_jti` → expiry (epoch ms), and each one's owner. A
 * Cognito `origin_jti` is a lowercase UUID, so those are held as numbers in one typed array (an
 * open-addressing table with linear probing), not as string keys of a `Map`: a million revoked
 * sessions then cost 40 bytes a slot (at most two slots an entry), fill in a fraction of the time,
 * and give the garbage collector nothing to trace. Any other spelling of an id (another issuer's,
 * upper case) is kept exactly as given in a `Map`, so no two ids are ever confused.
 * The same table finds a pool's users by sub (see session-owners.ts): a Cognito sub is a UUID too.
 */

/** Slots at first; the table doubles when it is half full. */
const INITIAL_CAPACITY = 1024;
/**
 * Numbers per slot: the expiry, the UUID's 32 hex digits as three integers of 11, 11 and 10 digits
 * (at most 44 bits, exact in a double), and the owner (a number the caller gives, 0 for none). One
 * array, 40 bytes a slot: a lookup touches one cache line or two.
 */
const STRIDE = 5;
/** A free slot's expiry: an expiry is always a positive time. */
const EMPTY = 0;
const DASH = 0x2d;
/** {@link SessionTable}'s last lookup was of bytes ({@link SessionTable.getBytes}), not of a string. */
const BYTES = Symbol('bytes');
/** The most entries {@link SessionTable.reserve} makes room for in one go (320 MB of slots). */
const MAX_RESERVED = 4_000_000;
/** Where the hex digits of a lowercase UUID sit, dashes skipped. */
const DIGITS = [...'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'].flatMap((char, i) => (char === 'x' ? [i] : []));

export class SessionTable {
  #slots = new Float64Array(INITIAL_CAPACITY * STRIDE);
  #capacity = INITIAL_CAPACITY;
  #mask = INITIAL_CAPACITY - 1;
  #used = 0;
  /** Ids that are not a lowercase UUID, and the owners of those that have one. */
  readonly #others = new Map<string, number>();
  readonly #otherOwners = new Map<string, number>();
  /** The key parts of the id last parsed by {@link #parse}: scratch, so a lookup allocates nothing. */
  #k0 = 0;
  #k1 = 0;
  #k2 = 0;
  /** The id of the last lookup, and its {@link #find} answer, until the table next changes. */
  #lastId: string | typeof BYTES | undefined;
  #lastSlot = -1;
  /** Per table: slots cannot be chosen from outside by picking ids. */
  readonly #seed = (Math.random() * 0x1_0000_0000) | 0;
  /** Told when an owned entry moves to another slot, so an owner can point at its entry's slot. */
  readonly #moved: (owner: number, slot: number) => void;

  constructor(moved: (owner: number, slot: number) => void = () => {}) {
    this.#moved = moved;
  }

  get size(): number {
    return this.#used + this.#others.size;
  }

  /** How many entries it holds before it next grows. */
  get room(): number {
    return this.#capacity / 2;
  }

  /** Make room for `entries` in all without growing again (a full read knows how many are coming). */
  reserve(entries: number): void {
    // A count from outside (the store's): beyond a few million, let the entries themselves grow it.
    const wanted = Math.min(entries, MAX_RESERVED);
    let capacity = this.#capacity;
    while (wanted * 2 > capacity) capacity *= 2;
    if (capacity > this.#capacity) this.#grow(capacity);
  }

  /** The expiry held for `id`, or `undefined`. */
  get(id: string): number | undefined {
    if (!this.#parse(id)) return this.#others.get(id);
    const slot = this.#lookUp(id);
    return slot < 0 ? undefined : this.#slots[slot * STRIDE];
  }

  has(id: string): boolean {
    if (!this.#parse(id)) return this.#others.has(id);
    return this.#lookUp(id) >= 0;
  }

  /**
   * Hold `id` until `expiresAt` (a positive epoch-ms time), replacing what was held; `owner` (a
   * positive integer) is kept with it when given, and otherwise left as it was (0 for a new id).
   * Returns the slot that holds it until it moves (the constructor's `moved` says when), or -1 for
   * an id kept aside (not a lowercase UUID), which never moves.
   */
  set(id: string, expiresAt: number, owner?: number): number {
    // A set right after a get of the same id (the mirror's add) reuses that lookup.
    const slot = id === this.#lastId ? this.#lastSlot : this.#parse(id) ? this.#lookUp(id) : Number.NaN;
    if (Number.isNaN(slot)) {
      this.#others.set(id, expiresAt);
      if (owner !== undefined) this.#otherOwners.set(id, owner);
      return -1;
    }
    return this.#put(slot, expiresAt, owner);
  }

  /** Write the parsed id at `slot` (a {@link #find} answer for it): its expiry, and its owner if given. */
  #put(found: number, expiresAt: number, owner: number | undefined): number {
    this.#lastId = undefined;
    let slot = found;
    if (slot < 0 && (this.#used + 1) * 2 > this.#capacity) {
      this.#grow(this.#capacity * 2);
      slot = this.#find();
    }
    const at = (slot < 0 ? -slot - 1 : slot) * STRIDE;
    if (slot < 0) {
      this.#slots[at + 1] = this.#k0;
      this.#slots[at + 2] = this.#k1;
      this.#slots[at + 3] = this.#k2;
      this.#slots[at + 4] = 0;
      this.#used++;
    }
    this.#slots[at] = expiresAt;
    if (owner !== undefined) this.#slots[at + 4] = owner;
    return at / STRIDE;
  }

  /**
   * {@link get} for the id spelled by `bytes[start..end)` (a member of a full read), without making
   * a string of it; `null` when those bytes are not a lowercase UUID (ask with the string then).
   */
  getBytes(bytes: Uint8Array, start: number, end: number): number | undefined | null {
    if (!this.#parseBytes(bytes, start, end)) return null;
    this.#lastId = BYTES;
    this.#lastSlot = this.#find();
    return this.#lastSlot < 0 ? undefined : this.#slots[this.#lastSlot * STRIDE];
  }

  /** {@link set} for the id {@link getBytes} just looked up, with nothing changed since; returns its slot. */
  setLastBytes(expiresAt: number, owner?: number): number {
    if (this.#lastId !== BYTES) throw new Error('setLastBytes() must follow getBytes() of the same id');
    return this.#put(this.#lastSlot, expiresAt, owner);
  }

  delete(id: string): boolean {
    if (!this.#parse(id)) {
      this.#otherOwners.delete(id);
      return this.#others.delete(id);
    }
    const slot = this.#lookUp(id);
    if (slot < 0) return false;
    this.#free(slot);
    return true;
  }

  /**
   * Drop every entry that expires at or before `now`, telling `dropped` each id and its owner;
   * returns how many.
   * Walks the slots in place, each cluster from its start, so an entry moved back into a freed slot
   * is looked at there. Only a dropped entry's id is spelled out.
   */
  deleteExpired(now: number, dropped: (id: string, owner: number) => void): number {
    let count = 0;
    for (const [id, expiresAt] of this.#others) {
      if (expiresAt <= now) {
        const owner = this.#otherOwners.get(id) ?? 0;
        this.#others.delete(id);
        this.#otherOwners.delete(id);
        dropped(id, owner);
        count++;
      }
    }
    if (this.#used === 0) return count;
    const slots = this.#slots;
    // Half full at most, so a free slot exists: start after it, and no cluster wraps past the start.
    let start = 0;
    while (slots[start * STRIDE] !== EMPTY) start++;
    for (let step = 1; step <= this.#capacity; step++) {
      const slot = (start + step) & this.#mask;
      const expiresAt = slots[slot * STRIDE] as number;
      if (expiresAt === EMPTY || expiresAt > now) continue;
      const id = this.idAt(slot);
      const owner = slots[slot * STRIDE + 4] as number;
      this.#free(slot);
      dropped(id, owner);
      count++;
      // The slot may now hold the next entry of its cluster: look at it again.
      if (slots[slot * STRIDE] !== EMPTY) step--;
    }
    return count;
  }

  /** Every id held, with its expiry and owner. */
  *entries(): IterableIterator<[id: string, expiresAt: number, owner: number]> {
    for (const [id, expiresAt] of this.#others) yield [id, expiresAt, this.#otherOwners.get(id) ?? 0];
    for (let slot = 0; slot < this.#capacity; slot++) {
      const at = slot * STRIDE;
      const expiresAt = this.#slots[at] as number;
      if (expiresAt !== EMPTY) yield [this.idAt(slot), expiresAt, this.#slots[at + 4] as number];
    }
  }

  /**
   * Read a lowercase UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`) into the key parts; `false` for
   * any other string, which leaves the last id's parts alone.
   */
  #parse(id: string): boolean {
    if (
      id.length !== 36 ||
      id.charCodeAt(8) !== DASH ||
      id.charCodeAt(13) !== DASH ||
      id.charCodeAt(18) !== DASH ||
      id.charCodeAt(23) !== DASH
    ) {
      return false;
    }
    const k0 = hexDigits(id, 0, 11);
    const k1 = hexDigits(id, 11, 22);
    const k2 = hexDigits(id, 22, 32);
    if (k0 < 0 || k1 < 0 || k2 < 0) return false;
    this.#k0 = k0;
    this.#k1 = k1;
    this.#k2 = k2;
    return true;
  }

  /** {@link #parse} for bytes: the same rules, no string. */
  #parseBytes(bytes: Uint8Array, start: number, end: number): boolean {
    if (
      end - start !== 36 ||
      bytes[start + 8] !== DASH ||
      bytes[start + 13] !== DASH ||
      bytes[start + 18] !== DASH ||
      bytes[start + 23] !== DASH
    ) {
      return false;
    }
    const k0 = hexDigitsOfBytes(bytes, start, 0, 11);
    const k1 = hexDigitsOfBytes(bytes, start, 11, 22);
    const k2 = hexDigitsOfBytes(bytes, start, 22, 32);
    if (k0 < 0 || k1 < 0 || k2 < 0) return false;
    this.#k0 = k0;
    this.#k1 = k1;
    this.#k2 = k2;
    return true;
  }

  /** {@link #find}, remembered for `id` (whose parts {@link #parse} just read). */
  #lookUp(id: string): number {
    this.#lastId = id;
    this.#lastSlot = this.#find();
    return this.#lastSlot;
  }

  /** The slot holding the parsed id, or `-slot - 1` for the free slot where it would go. */
  #find(): number {
    const k0 = this.#k0;
    const k1 = this.#k1;
    const k2 = this.#k2;
    const slots = this.#slots;
    let slot = this.#home(k0, k1, k2);
    for (;;) {
      const at = slot * STRIDE;
      if (slots[at] === EMPTY) return -slot - 1;
      if (slots[at + 1] === k0 && slots[at + 2] === k1 && slots[at + 3] === k2) return slot;
      slot = (slot + 1) & this.#mask;
    }
  }

  #home(k0: number, k1: number, k2: number): number {
    // Each part is below 2^44: its low 32 bits (`| 0`) and the rest (`/ 2^32`) both go in.
    let h = Math.imul((k0 | 0) ^ this.#seed, 0x9e3779b1);
    h = Math.imul(h ^ (k0 / 0x1_0000_0000) ^ (k1 | 0) ^ (h >>> 15), 0x85ebca77);
    h = Math.imul(h ^ (k1 / 0x1_0000_0000) ^ (k2 | 0) ^ (h >>> 13), 0xc2b2ae3d);
    h = Math.imul(h ^ (k2 / 0x1_0000_0000) ^ (h >>> 16), 0x27d4eb2f);
    return (h ^ (h >>> 15)) & this.#mask;
  }

  /** Empty `slot`, moving back the later entries of its cluster that would no longer be found. */
  #free(slot: number): void {
    this.#lastId = undefined;
    const slots = this.#slots;
    let hole = slot;
    let next = slot;
    for (;;) {
      next = (next + 1) & this.#mask;
      const at = next * STRIDE;
      if (slots[at] === EMPTY) break;
      const home = this.#home(slots[at + 1] as number, slots[at + 2] as number, slots[at + 3] as number);
      // The entry stays when its home lies cyclically in (hole, next]: it is still reachable.
      const reachable = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (reachable) continue;
      slots.copyWithin(hole * STRIDE, at, at + STRIDE);
      const owner = slots[at + 4] as number;
      if (owner !== 0) this.#moved(owner, hole);
      hole = next;
    }
    slots[hole * STRIDE] = EMPTY;
    this.#used--;
  }

  #grow(capacity: number): void {
    this.#lastId = undefined;
    const old = this.#slots;
    const slots = new Float64Array(capacity * STRIDE);
    // Touch every 4 KiB page (512 numbers) in order, once: left to the hashed
    // writes, each page faults in at a random moment, and a million-entry read paid about a third
    // of its time in page faults (start 3.06 -> 2.4-2.9 s, reconcile 1.5 -> 1.0 s, bench/revocation.ts).
    for (let i = 0; i < slots.length; i += 512) slots[i] = EMPTY;
    this.#slots = slots;
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    for (let at = 0; at < old.length; at += STRIDE) {
      if (old[at] === EMPTY) continue;
      let slot = this.#home(old[at + 1] as number, old[at + 2] as number, old[at + 3] as number);
      while (slots[slot * STRIDE] !== EMPTY) slot = (slot + 1) & this.#mask;
      const to = slot * STRIDE;
      for (let i = 0; i < STRIDE; i++) slots[to + i] = old[at + i] as number;
      if (old[at + 4] !== 0) this.#moved(old[at + 4] as number, slot);
    }
  }

  /** The id in `slot` (a slot {@link set} answered, not moved since), spelled as it was given. */
  idAt(slot: number): string {
    const at = slot * STRIDE;
    const digits =
      (this.#slots[at + 1] as number).toString(16).padStart(11, '0') +
      (this.#slots[at + 2] as number).toString(16).padStart(11, '0') +
      (this.#slots[at + 3] as number).toString(16).padStart(10, '0');
    return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
  }
}

/** The UUID's hex digits `from` to `to` (dashes skipped) as one integer; -1 when one is not lowercase hex. */
function hexDigits(id: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = hexValue(id.charCodeAt(DIGITS[i] as number));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** {@link hexDigits} of the UUID at `bytes[start…]` (two loops, one per input kind, for the full read's speed). */
function hexDigitsOfBytes(bytes: Uint8Array, start: number, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = hexValue(bytes[start + (DIGITS[i] as number)] as number);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A lowercase hex digit's value, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

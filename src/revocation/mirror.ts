import type { RevocationEntry } from './entries.ts';
import { poolIdOfIssuer } from './entries.ts';

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

/** Issuers remembered with their pool id; a verifier accepts a handful, so this never fills in practice. */
const MAX_KNOWN_ISSUERS = 256;

/**
 * The in-memory copy of a revocation list that answers every check: two maps, no I/O. Entries are
 * only ever added or made longer-lived here, and only {@link sweep} removes them, when they expire:
 * a store that lost its data (a Redis restart without persistence) cannot un-revoke anything.
 */
export class RevocationMirror {
  /** origin_jti → expiry (epoch ms). */
  readonly #sessions = new Map<string, number>();
  /** pool id → sub → cut-off. Two levels, so a check builds no string. */
  readonly #users = new Map<string, Map<string, Cutoff>>();
  #userCount = 0;
  /** issuer → its pool's cut-offs (`null`: none): one lookup per check instead of issuer → pool → subs. */
  readonly #subsByIssuer = new Map<string, Map<string, Cutoff> | null>();

  get size(): number {
    return this.#sessions.size + this.#userCount;
  }

  /**
   * Add an entry, or extend one (a later cut-off, a later expiry); an expired entry is ignored.
   * `true` when the mirror now holds the entry exactly as given (nothing later).
   */
  apply(entry: RevocationEntry, now: number): boolean {
    if (entry.kind === 'session') return this.applySession(entry.originJti, entry.expiresAt, now);
    if (entry.expiresAt <= now) return false;
    let bySub = this.#users.get(entry.userPoolId);
    if (bySub === undefined) {
      bySub = new Map();
      this.#users.set(entry.userPoolId, bySub);
      this.#subsByIssuer.clear(); // issuers of this pool may be remembered as having no cut-offs
    }
    const held = bySub.get(entry.sub);
    if (held === undefined) {
      bySub.set(entry.sub, { seconds: entry.cutoffSeconds, expiresAt: entry.expiresAt });
      this.#userCount++;
      return true;
    }
    held.seconds = Math.max(held.seconds, entry.cutoffSeconds);
    held.expiresAt = Math.max(held.expiresAt, entry.expiresAt);
    return held.seconds === entry.cutoffSeconds && held.expiresAt === entry.expiresAt;
  }

  /**
   * {@link apply} for a revoked session, without an entry object: a full read of the store passes
   * every member through here.
   *
   * ```ts
   * mirror.applySession('6f1c0f5e-8e0a-4b47-9d4c-3f0f2a7d9b10', Date.now() + 86_400_000, Date.now());
   * ```
   */
  applySession(originJti: string, expiresAt: number, now: number): boolean {
    if (expiresAt <= now) return false;
    const held = this.#sessions.get(originJti);
    if (held === undefined || held < expiresAt) {
      this.#sessions.set(originJti, expiresAt);
      return true;
    }
    return held === expiresAt;
  }

  /** Whether these claims are revoked: their session is listed, or they were issued at or before their user's cut-off. */
  has(claims: RevocationClaims): boolean {
    const originJti = claims.origin_jti;
    if (typeof originJti === 'string' && this.#sessions.has(originJti)) return true;
    if (this.#userCount === 0) return false;
    const issuer = claims.iss;
    if (typeof issuer !== 'string') return false;
    let bySub = this.#subsByIssuer.get(issuer);
    if (bySub === undefined) bySub = this.#learnIssuer(issuer);
    if (bySub === null) return false;
    const cutoff = bySub.get(claims.sub as string);
    if (cutoff === undefined) return false;
    const iat = claims.iat;
    // Inclusive at one-second resolution; a token without a numeric iat cannot prove it is newer.
    return !(typeof iat === 'number' && iat > cutoff.seconds);
  }

  /** Drop the entries whose expiry has passed; returns how many. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [originJti, expiresAt] of this.#sessions) {
      if (expiresAt <= now) {
        this.#sessions.delete(originJti);
        dropped++;
      }
    }
    for (const [pool, bySub] of this.#users) {
      for (const [sub, cutoff] of bySub) {
        if (cutoff.expiresAt <= now) {
          bySub.delete(sub);
          this.#userCount--;
          dropped++;
        }
      }
      if (bySub.size === 0) {
        this.#users.delete(pool);
        this.#subsByIssuer.clear();
      }
    }
    return dropped;
  }

  /** Every entry held. */
  *entries(): IterableIterator<RevocationEntry> {
    for (const [originJti, expiresAt] of this.#sessions) yield { kind: 'session', originJti, expiresAt };
    for (const [userPoolId, bySub] of this.#users) {
      for (const [sub, { seconds, expiresAt }] of bySub) {
        yield { kind: 'user', userPoolId, sub, cutoffSeconds: seconds, expiresAt };
      }
    }
  }

  #learnIssuer(issuer: string): Map<string, Cutoff> | null {
    if (this.#subsByIssuer.size >= MAX_KNOWN_ISSUERS) this.#subsByIssuer.clear();
    const pool = poolIdOfIssuer(issuer);
    const bySub = pool === undefined ? null : (this.#users.get(pool) ?? null);
    this.#subsByIssuer.set(issuer, bySub);
    return bySub;
  }
}

/**
 * What a revocation list holds, and how an entry is spelled in a store. Two kinds:
 * - a revoked **session**: every token carrying this `origin_jti` (one refresh token and all the
 *   ID and access tokens issued from it);
 * - a user **cut-off**: every token of this `sub` in this user pool with `iat` at or before the
 *   cut-off second (what `GlobalSignOut` / `AdminUserGlobalSignOut` mean locally).
 */
import { ConfigError, describeValue } from '../errors.ts';
import { isUserPoolId } from '../pool/id.ts';

/**
 * One entry of a revocation list, as {@link RevocationList.entries} lists it. `expiresAt` is when
 * the entry can no longer reject anything (epoch milliseconds).
 *
 * ```ts
 * for (const entry of list.entries()) {
 *   if (entry.kind === 'user') console.log(entry.userPoolId, entry.sub, new Date(entry.cutoffSeconds * 1000));
 * }
 * ```
 */
export type RevocationEntry =
  | {
      kind: 'session';
      originJti: string;
      expiresAt: number;
      /**
       * The session's pool and user, when the revoker knew them: the mirror then counts the entry
       * towards that pool's cap and can fold the user's sessions into one cut-off.
       */
      owner?: { userPoolId: string; sub: string };
    }
  | { kind: 'user'; userPoolId: string; sub: string; cutoffSeconds: number; expiresAt: number };

/** Longest identifier accepted (an `origin_jti` or a `sub` is a 36-character UUID). */
export const MAX_ID_LENGTH = 512;

// Members are tab-separated: a tab or any other control character in an id is refused on input.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether `value` is a usable identifier: a non-empty string of at most 512 characters, no control characters. */
export function isStorableId(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && !CONTROL.test(value)
  );
}

/** `value` when it is a usable identifier ({@link isStorableId}). */
export function checkId(name: string, value: unknown): string {
  if (!isStorableId(value)) {
    throw new ConfigError(
      `${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters without control characters, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `value` when it has the shape of a user pool id (`eu-west-1_AbC123`, or an emulator's `local_AbC123`). */
export function checkUserPoolId(value: unknown): string {
  if (typeof value !== 'string' || !isUserPoolId(value)) {
    throw new ConfigError(`userPoolId must look like "eu-west-1_AbC123", got ${describeValue(value)}`);
  }
  return value;
}

/**
 * A session's pool and user as a revocation takes them (`revokeSession`'s options), checked: each may
 * be left out, but a `sub` needs its `userPoolId`.
 *
 * ```ts
 * checkSessionOwner('eu-west-1_AbC123', claims.sub); // { userPoolId: 'eu-west-1_AbC123', sub: claims.sub }
 * ```
 */
export function checkSessionOwner(userPoolId: unknown, sub: unknown): { userPoolId?: string; sub?: string } {
  const pool = userPoolId === undefined ? undefined : checkUserPoolId(userPoolId);
  if (sub === undefined) return pool === undefined ? {} : { userPoolId: pool };
  if (pool === undefined) throw new ConfigError('a session revocation with sub needs userPoolId');
  return { userPoolId: pool, sub: checkId('sub', sub) };
}

/**
 * The user pool a token's issuer belongs to: the last path segment of `iss` when it has the shape
 * of a pool id. Both issuers of one pool (`https://cognito-idp.{region}.amazonaws.com/{pool}` and
 * the multi-Region `https://issuer-cognito-idp.{region}.amazonaws.com/{pool}`) give the same pool,
 * and so do emulators (`http://127.0.0.1:9229/local_AbC`); anything else gives `undefined`.
 *
 * ```ts
 * poolIdOfIssuer('https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123'); // 'eu-west-1_AbC123'
 * ```
 */
export function poolIdOfIssuer(issuer: unknown): string | undefined {
  if (typeof issuer !== 'string') return undefined;
  const lastSegment = issuer.slice(issuer.lastIndexOf('/') + 1);
  return isUserPoolId(lastSegment) ? lastSegment : undefined;
}

/**
 * The pool (from `iss`) and user of verified claims, as `revokeSession` takes them; nothing when they
 * are not a Cognito pool's (the session is then revoked by its `origin_jti` alone).
 *
 * ```ts
 * await revocations.revokeSession(claims.origin_jti, sessionOwnerOf(claims));
 * ```
 */
export function sessionOwnerOf(claims: { readonly iss?: unknown; readonly sub?: unknown }): {
  userPoolId?: string;
  sub?: string;
} {
  const userPoolId = poolIdOfIssuer(claims.iss);
  if (userPoolId === undefined) return {};
  // A sub the list cannot store (over 512 characters, control characters): the session still counts.
  return isStorableId(claims.sub) ? { userPoolId, sub: claims.sub } : { userPoolId };
}

/**
 * The store's spelling of an entry, its expiry included (so a full read needs no scores, which
 * Redis would have to format): `s\t{originJti}\t{expiresAt}`, with its owner
 * `o\t{pool}\t{sub}\t{originJti}\t{expiresAt}`, or `u\t{pool}\t{sub}\t{cutoffSeconds}\t{expiresAt}`.
 * (An owned session has a letter of its own: a reader of an older release skips it rather than
 * misreading it, and reads its plain `s` twin when the revoker wrote both.)
 */
export function encodeEntry(entry: RevocationEntry): string {
  if (entry.kind === 'user')
    return `u\t${entry.userPoolId}\t${entry.sub}\t${entry.cutoffSeconds}\t${entry.expiresAt}`;
  return entry.owner === undefined
    ? `s\t${entry.originJti}\t${entry.expiresAt}`
    : `o\t${entry.owner.userPoolId}\t${entry.owner.sub}\t${entry.originJti}\t${entry.expiresAt}`;
}

/** Read an entry back from the store; `undefined` for anything this library did not write. */
export function decodeEntry(member: string): RevocationEntry | undefined {
  const last = member.lastIndexOf('\t');
  const expiresAt = Number(member.slice(last + 1));
  if (last < 2 || member[1] !== '\t' || !Number.isSafeInteger(expiresAt)) return undefined;
  if (member[0] === 's') {
    const originJti = member.slice(2, last);
    return originJti.length === 0 || originJti.includes('\t')
      ? undefined
      : { kind: 'session', originJti, expiresAt };
  }
  if (member[0] !== 'u' && member[0] !== 'o') return undefined;
  const parts = member.slice(2, last).split('\t');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return undefined;
  if (member[0] === 'o') {
    return {
      kind: 'session',
      originJti: parts[2],
      expiresAt,
      owner: { userPoolId: parts[0], sub: parts[1] },
    };
  }
  const cutoffSeconds = Number(parts[2]);
  if (!Number.isSafeInteger(cutoffSeconds)) return undefined;
  return { kind: 'user', userPoolId: parts[0], sub: parts[1], cutoffSeconds, expiresAt };
}

/** One decoded member of a full read, as {@link decodeMember} hands it over. */
export interface MemberVisitor {
  /**
   * A revoked session, with its owner when the member has one: nearly every member, passed without
   * building an entry object.
   */
  session(originJti: string, expiresAt: number, userPoolId?: string, sub?: string): void;
  /**
   * A session without an owner, its id still bytes (`member[start..end)`): `true` when the visitor
   * took it so; otherwise {@link session} gets it as a string.
   */
  sessionBytes?(member: Buffer, start: number, end: number, expiresAt: number): boolean;
  /**
   * {@link sessionBytes} for a session with its owner: its pool is `member[poolStart..poolEnd)` and
   * its sub `member[subStart..subEnd)`.
   */
  ownedSessionBytes?(
    member: Buffer,
    start: number,
    end: number,
    poolStart: number,
    poolEnd: number,
    subStart: number,
    subEnd: number,
    expiresAt: number,
  ): boolean;
  /** Any other entry this library wrote (a user cut-off). */
  other(entry: RevocationEntry): void;
}

const TAB = 0x09;
const DIGIT_0 = 0x30;
const SESSION = 0x73; // 's'
const OWNED = 0x6f; // 'o'

/**
 * {@link decodeEntry} for a member read as bytes, as a full read gets them: a session (nearly every
 * member, with or without its owner) costs no entry object, and each id is copied out as a string
 * of its own, so the mirror does not keep the whole member alive behind a sliced string. Members
 * this library did not write are skipped.
 *
 * ```ts
 * decodeMember(Buffer.from('s\tabc\t1900000000000'), {
 *   session: (originJti, expiresAt) => console.log(originJti, expiresAt),
 *   other: (entry) => console.log(entry),
 * });
 * ```
 */
export function decodeMember(member: Buffer, visit: MemberVisitor): void {
  const end = member.length;
  const kind = member[0];
  if ((kind !== SESSION && kind !== OWNED) || member[1] !== TAB) {
    const entry = decodeEntry(member.toString('utf8'));
    if (entry) visit.other(entry);
    return;
  }
  // `s\t{originJti}\t{expiresAt}` or `o\t{pool}\t{sub}\t{originJti}\t{expiresAt}`: each field runs
  // to the next tab, and only digits may follow the last (so no tab hides in the expiry). Scanned
  // here, not with indexOf: a native call per field costs more than its few dozen bytes.
  let poolEnd = 1;
  let subEnd = 1;
  if (kind === OWNED) {
    poolEnd = fieldEnd(member, 2);
    subEnd = fieldEnd(member, poolEnd + 1);
    if (poolEnd === 2 || subEnd === poolEnd + 1 || subEnd >= end) return;
  }
  const idStart = subEnd + 1;
  let tab = idStart;
  let high = 0;
  while (tab < end && member[tab] !== TAB) high |= member[tab++] as number;
  if (tab === idStart || tab >= end - 1) return;
  let expiresAt = 0;
  for (let i = tab + 1; i < end; i++) {
    const digit = (member[i] as number) - DIGIT_0;
    if (digit < 0 || digit > 9) return;
    expiresAt = expiresAt * 10 + digit;
  }
  if (!Number.isSafeInteger(expiresAt)) return;
  if (kind === SESSION && visit.sessionBytes?.(member, idStart, tab, expiresAt)) return;
  if (
    kind === OWNED &&
    visit.ownedSessionBytes?.(member, idStart, tab, 2, poolEnd, poolEnd + 1, subEnd, expiresAt)
  )
    return;
  // An ASCII id (every Cognito origin_jti) reads the same as latin1, which copies without decoding.
  const originJti = member.toString(high < 0x80 ? 'latin1' : 'utf8', idStart, tab);
  if (kind === SESSION) visit.session(originJti, expiresAt);
  else
    visit.session(
      originJti,
      expiresAt,
      member.toString('utf8', 2, poolEnd),
      member.toString('utf8', poolEnd + 1, subEnd),
    );
}

/** Where the field starting at `start` ends: its tab, or the end of the member. */
function fieldEnd(member: Buffer, start: number): number {
  let at = start;
  while (at < member.length && member[at] !== TAB) at++;
  return at;
}

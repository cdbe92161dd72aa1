/**
 * Cookies as the session door reads and writes them: one `Cookie` header in, `Set-Cookie` values
 * out, and a sealed value cut into chunks that each stay under the size every browser keeps.
 */

/** Browsers keep a cookie whose name and value together are at most 4 096 bytes; leave room. */
export const MAX_COOKIE_BYTES = 4_000;
/** Characters of sealed value per chunk: a chunk cookie's name and `=` fit in the rest. */
export const CHUNK_VALUE_LENGTH = 3_800;
/** A `Cookie` header longer than this is not parsed at all (no browser sends one). */
export const MAX_COOKIE_HEADER_LENGTH = 64 * 1024;

/** The attributes every cookie of the door carries. */
export interface CookieAttributes {
  /** `Domain=`; only with the `__Secure-` prefix (a `__Host-` cookie has none). */
  readonly domain: string | undefined;
  /** `Secure` (always, unless the development switch serves http://localhost). */
  readonly secure: boolean;
}

/**
 * The values of the cookies whose names start with `prefix`, by name. A name sent twice is kept
 * twice: the caller refuses the ambiguity. `undefined` when the header is absurdly large.
 */
export function readCookies(header: string | undefined, prefix: string): Map<string, string[]> | undefined {
  const found = new Map<string, string[]>();
  if (header === undefined || header.length === 0) return found;
  if (header.length > MAX_COOKIE_HEADER_LENGTH) return undefined;
  let at = header.indexOf(prefix);
  while (at !== -1) {
    // Only at the start of a cookie-pair: the header's start, or after "; " (or ";").
    const start = at;
    let before = start - 1;
    while (before >= 0 && header.charCodeAt(before) === 32) before--;
    if (before < 0 || header.charCodeAt(before) === 59 /* ; */) {
      const equals = header.indexOf('=', start);
      let end = header.indexOf(';', start);
      if (end === -1) end = header.length;
      if (equals !== -1 && equals < end) {
        const name = header.slice(start, equals).trim();
        let value = header.slice(equals + 1, end);
        // trim() copies a long value; cookie values rarely carry spaces, so check the ends first.
        if (value.charCodeAt(0) === 32 || value.charCodeAt(value.length - 1) === 32) value = value.trim();
        if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
        const values = found.get(name);
        if (values === undefined) found.set(name, [value]);
        else values.push(value);
      }
      at = header.indexOf(prefix, end);
    } else {
      at = header.indexOf(prefix, start + 1);
    }
  }
  return found;
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure unless developing on localhost. */
export function setCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  attributes: CookieAttributes,
): string {
  let cookie = `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; SameSite=Lax`;
  if (attributes.secure) cookie += '; Secure';
  if (attributes.domain !== undefined) cookie += `; Domain=${attributes.domain}`;
  return cookie;
}

/** A `Set-Cookie` value that removes the cookie (same name, path and domain, `Max-Age=0`). */
export function clearCookie(name: string, attributes: CookieAttributes): string {
  return setCookie(name, '', 0, attributes);
}

/** `value` cut into pieces of at most {@link CHUNK_VALUE_LENGTH} characters. */
export function chunk(value: string): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < value.length; at += CHUNK_VALUE_LENGTH)
    pieces.push(value.slice(at, at + CHUNK_VALUE_LENGTH));
  return pieces;
}

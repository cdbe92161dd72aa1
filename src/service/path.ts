/**
 * The one rule that turns the URI a proxy reports into the path route rules match. The path a rule
 * sees must be the path the upstream will route on, so every spelling that an upstream could read
 * as another path is either reduced to the same path or refused:
 *
 * 1. A raw `#` anywhere is refused: a client never sends a fragment, and servers disagree on
 *    whether it ends the path. The query (`?…`) is dropped. The rest must start with `/`.
 * 2. Refused outright: characters outside printable ASCII (clients percent-encode them), `\`, and
 *    encoded `/` or `\` (`%2F`, `%5C`) or NUL (`%00`), which servers disagree on.
 * 3. The path is split on `/`. In each segment, `;` starts parameters (Tomcat / Spring "matrix"
 *    parameters): they are dropped, so `/admin;x` is `/admin`. A dot segment or an empty segment
 *    that carries parameters (`..;x`, `;x`) is refused: servers disagree on what it is.
 * 4. Each segment is percent-decoded once, as UTF-8. Malformed escapes, invalid UTF-8, control
 *    characters, and anything that still looks encoded after decoding (`%252e` → `%2e`: a second
 *    decoder would see `.`) or decodes to `;` (`%3B`) are refused.
 * 5. Empty segments (`//`, a trailing `/`) are dropped; `.` is dropped; `..` removes the segment
 *    before it. A `..` that would climb above the root, or that follows an empty segment (where
 *    merging slashes first or last gives different paths), is refused.
 * 6. A segment that ends in a space or a dot (after decoding: `/admin.`, `/admin%20`) is refused:
 *    Windows and IIS strip them, so the upstream would serve `/admin`.
 * 7. With `caseSensitive: false` a segment holding any character outside ASCII is refused (see
 *    {@link normalisePath}), and the result is lower-cased (for upstreams that route without case).
 *
 * The result is `/` followed by the segments joined with `/`.
 */

/** A path reduced by {@link normalisePath}, or why it cannot be reduced unambiguously. */
export type NormalisedPath = { ok: true; path: string } | { ok: false; reason: string };

/** Longest URI examined; longer ones are refused (nginx's default large header buffer is 8 KiB). */
export const MAX_URI_LENGTH = 8192;

const RAW_ALLOWED = /^[\x21-\x7E]*$/;
const FORBIDDEN_ESCAPE = /%(?:2f|5c|00)/i;
const LOOKS_ENCODED = /%[0-9a-f]{2}/i;
const CONTROL = /[\x00-\x1F\x7F]/;
/**
 * Case-insensitive upstreams disagree on what a non-ASCII character equals: Java's
 * `equalsIgnoreCase` (and Spring on top of it) folds `ı`, `İ`, `ſ` and the Kelvin sign `K` to
 * `i`, `i`, `s` and `k`; Unicode case folding makes `ß` equal `ss` and `ﬁ` equal `fi`; a Turkish
 * locale lowers `I` to `ı`. No one fold covers them all, so that mode refuses them.
 */
const NON_ASCII = /[^\x00-\x7F]/;

function refuse(reason: string): NormalisedPath {
  return { ok: false, reason };
}

/**
 * Reduce a request URI (as nginx's `$request_uri`, Traefik's and Caddy's `X-Forwarded-Uri`, or the
 * path Envoy appends) to the path route rules match; see the module comment for the rule.
 *
 * ```ts
 * normalisePath('/public/%2e%2e/admin?x=1', { caseSensitive: true }); // { ok: true, path: '/admin' }
 * normalisePath('/admin%2Fusers', { caseSensitive: true }); // { ok: false, reason: 'an encoded slash ...' }
 * ```
 */
export function normalisePath(uri: string, options: { caseSensitive: boolean }): NormalisedPath {
  if (uri.length > MAX_URI_LENGTH) return refuse(`the URI is longer than ${MAX_URI_LENGTH} characters`);
  if (uri.includes('#')) return refuse('a raw "#" in the request target');
  const end = uri.indexOf('?');
  const raw = end === -1 ? uri : uri.slice(0, end);
  if (!raw.startsWith('/')) return refuse('the path does not start with "/"');
  if (!RAW_ALLOWED.test(raw)) return refuse('the path holds a space, a control or a non-ASCII character');
  if (raw.includes('\\')) return refuse('the path holds a backslash');
  if (FORBIDDEN_ESCAPE.test(raw)) return refuse('an encoded slash, backslash or NUL (%2F, %5C, %00)');

  const segments: string[] = [];
  const parts = raw.split('/');
  let previousEmpty = false;
  // parts[0] is the empty string before the leading "/".
  for (let index = 1; index < parts.length; index++) {
    const part = parts[index]!;
    const semicolon = part.indexOf(';');
    const withParameters = semicolon !== -1;
    const encoded = withParameters ? part.slice(0, semicolon) : part;
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return refuse('a malformed percent-escape or invalid UTF-8');
    }
    if (CONTROL.test(segment)) return refuse('an encoded control character');
    if (LOOKS_ENCODED.test(segment)) return refuse('a double-encoded character (%25xx)');
    if (segment.includes(';')) return refuse('an encoded ";" (%3B)');
    if (withParameters && (segment === '' || segment === '.' || segment === '..')) {
      return refuse('parameters (;) on an empty or dot segment');
    }
    if (segment === '' || segment === '.') {
      previousEmpty = segment === '';
      continue;
    }
    if (segment === '..') {
      if (previousEmpty) return refuse('".." after an empty segment ("//..")');
      if (segments.length === 0) return refuse('".." climbs above the root');
      segments.pop();
      continue;
    }
    const last = segment.charCodeAt(segment.length - 1);
    if (last === 0x20 || last === 0x2e) return refuse('a segment that ends in a space or a dot');
    previousEmpty = false;
    if (options.caseSensitive) segments.push(segment);
    else if (NON_ASCII.test(segment)) return refuse('a non-ASCII character in a case-insensitive path');
    else segments.push(segment.toLowerCase());
  }
  return { ok: true, path: `/${segments.join('/')}` };
}

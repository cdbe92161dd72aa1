/**
 * The headers an allowed request carries to the upstream. Every identity header is always present,
 * empty when the claim is absent: a proxy told to copy a header that the answer lacks may keep the
 * client's own value or put a placeholder there instead.
 *
 * Encoding, so any claim fits in a header and reads back exactly: `%`, control characters, DEL and
 * every character outside ASCII are percent-encoded as UTF-8 (and, inside the comma-separated
 * groups list, `,` too), and so are spaces at either end of a value or of a list item, which HTTP
 * parsers and list splitters trim. A value without `%` is the claim itself; `decodeURIComponent`
 * on any value gives the claim back byte for byte.
 */
import { groupsOf } from '../authz/rights.ts';
import { ConfigError } from '../errors.ts';
import { typeName } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';

/** The identity headers, in the order they are documented; lower case as Node sends them. */
export const IDENTITY_HEADERS = [
  'x-auth-request-user',
  'x-auth-request-sub',
  'x-auth-request-groups',
  'x-auth-request-scope',
  'x-auth-request-client-id',
  'x-auth-request-token-use',
  'x-auth-request-email',
  'x-auth-request-email-verified',
] as const;

/** The optional header with every verified claim, as base64url JSON. */
export const CLAIMS_HEADER = 'x-auth-request-claims';

// CGI, FastCGI, WSGI and Rack servers read `_` and `-` in a header name as the same (HTTP_X_AUTH_...).
const IDENTITY_NAME = /^x[-_]auth[-_]request[-_]/i;

/**
 * Whether `name` is an identity header in a spelling some hop could read as one: the
 * `X-Auth-Request-` prefix compared without regard to case, with `_` and `-` equal.
 *
 * ```ts
 * isIdentityHeaderName('X_Auth_Request_Groups'); // true
 * isIdentityHeaderName('x-auth-request'); // false
 * ```
 */
export function isIdentityHeaderName(name: string): boolean {
  return IDENTITY_NAME.test(name);
}

// Outside printable ASCII, `%`, or a space at either end (HTTP's optional whitespace around a value).
const NEEDS_ENCODING = /[^\x20-\x24\x26-\x7E]|^ | $/;

/**
 * A value safe for an HTTP header by the documented rule; `extra` lists more characters to encode.
 * `decodeURIComponent` gives `value` back exactly (a lone UTF-16 surrogate, which is no Unicode
 * character, comes back as U+FFFD).
 *
 * ```ts
 * headerValue('José'); // 'Jos%C3%A9'
 * headerValue(' padded '); // '%20padded%20'
 * headerValue('plain@example.com'); // 'plain@example.com'
 * ```
 */
export function headerValue(value: string, extra = ''): string {
  if (!NEEDS_ENCODING.test(value) && ![...extra].some((char) => value.includes(char))) return value;
  // Spaces before `start` and from `end` on are encoded: a header parser would trim them.
  let start = 0;
  while (start < value.length && value[start] === ' ') start++;
  let end = value.length;
  while (end > start && value[end - 1] === ' ') end--;
  let out = '';
  let index = 0;
  for (const char of value) {
    const code = char.codePointAt(0)!;
    const edge = char === ' ' && (index < start || index >= end);
    index += char.length;
    if (code >= 0x20 && code <= 0x7e && char !== '%' && !edge && !extra.includes(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8'))
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function text(value: unknown): string {
  return typeof value === 'string' ? headerValue(value) : '';
}

/** Header name (lower case) → claim name: the identity headers a config adds. */
export type ClaimHeaderMap = ReadonlyMap<string, string>;

const MAPPED_NAME = /^x-auth-request-[a-z0-9]+(?:-[a-z0-9]+)*$/i;

/**
 * Check the config's `identityHeaders` (header name → claim name) and return it keyed by the
 * lower-case name. Every name must start with `X-Auth-Request-` (so the documented proxy configs
 * strip a client's copy and the service refuses one), hold only letters, digits and `-`, and not
 * be one of the service's own headers. Throws {@link ConfigError}.
 *
 * ```ts
 * checkClaimHeaders({ 'X-Auth-Request-Tenant': 'custom:tenant' }); // Map { 'x-auth-request-tenant' => 'custom:tenant' }
 * ```
 */
export function checkClaimHeaders(raw: unknown): ClaimHeaderMap {
  const map = new Map<string, string>();
  if (raw === undefined) return map;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      `identityHeaders must be an object of header name → claim name, got ${typeName(raw)}`,
    );
  }
  const builtIn: readonly string[] = [...IDENTITY_HEADERS, CLAIMS_HEADER];
  for (const [name, claim] of Object.entries(raw)) {
    if (!MAPPED_NAME.test(name)) {
      throw new ConfigError(
        `identityHeaders: ${JSON.stringify(name)} must be "X-Auth-Request-" followed by letters, digits and "-" ` +
          '(the documented proxy configs strip that prefix from clients, and the service refuses it from them)',
      );
    }
    const lower = name.toLowerCase();
    if (builtIn.includes(lower)) {
      throw new ConfigError(`identityHeaders: ${name} is one of the service's own headers`);
    }
    if (map.has(lower)) throw new ConfigError(`identityHeaders: ${name} is named twice (names ignore case)`);
    if (typeof claim !== 'string' || claim === '') {
      throw new ConfigError(
        `identityHeaders: ${name} must name a claim (a non-empty string), got ${typeName(claim)}`,
      );
    }
    map.set(lower, claim);
  }
  return map;
}

/**
 * A claim of any JSON type as a header value by the documented rule: a string as itself, a number
 * or boolean as its JSON text, a list of those comma-separated (`,` inside an item encoded, as for
 * groups), anything else (an object, a nested list) as its JSON text; absent or `null`: empty.
 */
function claimText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return headerValue(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
    return value.map((item) => headerValue(String(item), ',')).join(',');
  }
  return headerValue(JSON.stringify(value));
}

/** What {@link identityHeaders} is told besides the claims. */
export interface IdentityHeaderOptions {
  /** Fill `X-Auth-Request-Claims` with every claim as base64url JSON (else it is sent empty). */
  readonly claimsHeader: boolean;
  /**
   * The claims are an OpenID userinfo answer (the load balancer's `x-amzn-oidc-data`), where
   * `email_verified` is the string `"true"`; in Cognito's tokens it is a boolean.
   */
  readonly userinfo?: boolean;
  /** The config's own identity headers ({@link checkClaimHeaders}): always sent, empty when the claim is absent. */
  readonly claimHeaders?: ClaimHeaderMap;
}

/**
 * Whether the claims vouch for their `email`: `email_verified` is `true` (or `"true"` in a
 * userinfo answer). Federated users often have no such claim until the pool maps one.
 *
 * ```ts
 * emailVerified({ email_verified: true }, false); // true
 * emailVerified({ email_verified: 'true' }, false); // false: a string only counts in userinfo
 * ```
 */
export function emailVerified(claims: Readonly<Record<string, unknown>>, userinfo: boolean): boolean {
  const verified = claims.email_verified;
  return verified === true || (userinfo && verified === 'true');
}

/**
 * The identity headers for verified claims (all of them, empty where a claim is absent), and the
 * claims header (empty unless asked for). Without claims (an anonymous route) every one is empty.
 * `X-Auth-Request-Email` holds the address only when it is verified ({@link emailVerified}), and
 * `X-Auth-Request-Email-Verified` says `true` or `false` whenever the claims hold an email or say
 * whether it is verified.
 *
 * ```ts
 * identityHeaders(claims, { claimsHeader: false })['x-auth-request-groups']; // 'admins,staff'
 * ```
 */
export function identityHeaders(
  claims: CognitoClaims | undefined,
  options: IdentityHeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of IDENTITY_HEADERS) headers[name] = '';
  // Present (empty) even when turned off, so a proxy that copies every X-Auth-Request-* header overwrites a client's.
  headers[CLAIMS_HEADER] = '';
  const mapped = options.claimHeaders;
  if (mapped !== undefined) for (const name of mapped.keys()) headers[name] = '';
  if (claims === undefined) return headers;
  // The union of ID and access claims: read each by name and keep only strings.
  const claim = claims as unknown as Record<string, unknown>;
  // The verifier's groupsClaim decides where groups come from (cognito:groups by default).
  const groups = groupsOf(claims);
  headers['x-auth-request-user'] = text(claim['cognito:username'] ?? claim.username);
  headers['x-auth-request-sub'] = text(claim.sub);
  headers['x-auth-request-groups'] = groups
    .filter((group) => typeof group === 'string')
    .map((group) => headerValue(group, ','))
    .join(',');
  headers['x-auth-request-scope'] = text(claim.scope);
  headers['x-auth-request-client-id'] = text(claim.token_use === 'id' ? claim.aud : claim.client_id);
  headers['x-auth-request-token-use'] = text(claim.token_use);
  // An unverified address is anyone's to type in (a sign-up form, a federated IdP): never send it as the user's.
  const verified = emailVerified(claim, options.userinfo === true);
  headers['x-auth-request-email'] = verified ? text(claim.email) : '';
  headers['x-auth-request-email-verified'] =
    claim.email === undefined && claim.email_verified === undefined ? '' : String(verified);
  if (mapped !== undefined) for (const [name, from] of mapped) headers[name] = claimText(claim[from]);
  if (options.claimsHeader)
    headers[CLAIMS_HEADER] = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return headers;
}

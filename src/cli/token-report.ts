import { CognitoJwtError, describeValue } from '../errors.ts';
import { isKid } from '../keys/jwk.ts';
import { isUserPoolId, poolRegion } from '../pool/id.ts';
import { poolIssuers, undocumentedPartition } from '../pool/issuers.ts';
import { decodeBase64url } from '../token/base64url.ts';
import { decodeUnverified } from '../token/decode.ts';
import { parseJsonObject } from '../token/json.ts';
import { ALB_EXPLANATION, ALB_TITLE, describeAlbToken } from './alb-report.ts';
import { TOKEN_PREFIX_LENGTH } from './text.ts';
import { relativeWords, spanWords } from './time.ts';

/** What a token is, as far as its contents tell (nothing is verified). */
export type TokenKind = 'id' | 'access' | 'client-credentials' | 'refresh' | 'alb' | 'unknown';

const KINDS: Record<TokenKind, { title: string; explanation: string }> = {
  id: {
    title: 'ID token',
    explanation:
      'Tells the app that signed the user in who the user is; aud is that app client. ' +
      'APIs usually expect the access token instead.',
  },
  access: {
    title: 'access token',
    explanation:
      'Says what a signed-in user may call (scope, cognito:groups); the app client is in client_id. ' +
      'An aud, when present, is the resource (API) the token is bound to (RFC 8707), never the client.',
  },
  'client-credentials': {
    title: 'client-credentials access token',
    explanation:
      'Issued to a machine by the client_credentials grant, not to a user: sub is the app client id; ' +
      'no username and no groups, only custom scopes. Custom claims a V3 trigger computed from the ' +
      "caller's ClientMetadata are the caller's word, not authority.",
  },
  refresh: {
    title: 'refresh token',
    explanation:
      'Encrypted by Cognito (a 5-part JWE): its contents cannot be decoded and it cannot be verified. ' +
      "Exchange it for new tokens at the pool's /oauth2/token (grant_type=refresh_token) or with " +
      'InitiateAuth REFRESH_TOKEN_AUTH; never send it to an API, and keep it secret.',
  },
  alb: { title: ALB_TITLE, explanation: ALB_EXPLANATION },
  unknown: {
    title: 'JWT (not a Cognito ID or access token)',
    explanation: 'token_use is neither "id" nor "access", so no Cognito verifier accepts it.',
  },
};

/** A refresh token from cognito-local is a signed JWT; say so rather than call it unknown. */
const EMULATOR_REFRESH_EXPLANATION =
  'Looks like a cognito-local refresh token: a signed JWT there, unlike the encrypted JWE real Cognito issues. ' +
  'Exchange it for new tokens; never send it to an API.';

const TIME_CLAIMS = ['iat', 'auth_time', 'nbf', 'exp'] as const;
const KEY_BEARING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** A time claim with its date and what it means now. */
export interface TimeClaim {
  /** Seconds since the epoch, as in the token. */
  readonly epoch: number;
  readonly iso: string;
  /** "expires in 42 min", "expired 3 h ago", "issued 5 s in the future". */
  readonly relative: string;
}

/** What the `iss` claim says about the pool. */
export interface IssuerInfo {
  readonly issuer: string;
  /** From the last path segment of `iss`. */
  readonly userPoolId: string | undefined;
  /** Only for Cognito issuers (`https://cognito-idp.{region}.amazonaws.com/{poolId}`). */
  readonly region: string | undefined;
  /** Whether `iss` has the shape of a real Cognito issuer (emulators and other IdPs do not). */
  readonly cognito: boolean;
}

/** Everything `inspect` shows about a token; produced without verifying anything. */
export interface TokenReport {
  readonly kind: TokenKind;
  readonly title: string;
  readonly explanation: string;
  /** The first characters of the token, to tell tokens apart (the token itself is never repeated). */
  readonly prefix: string;
  /** Length of the token in characters. */
  readonly length: number;
  /** The JWS header, or the JWE header of an encrypted refresh token. */
  readonly header: Record<string, unknown>;
  /** The payload; absent for an encrypted refresh token. */
  readonly claims: Record<string, unknown> | undefined;
  readonly issuer: IssuerInfo | undefined;
  /** The app client: `aud` for ID tokens, `client_id` for access tokens. */
  readonly client: { readonly claim: 'aud' | 'client_id' | 'client'; readonly id: string } | undefined;
  /** For a load balancer's token: the header's `signer`, with region and account when it is an ARN. */
  readonly loadBalancer?: { readonly arn: string; readonly region?: string; readonly account?: string };
  readonly username: string | undefined;
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  /** Access tokens: the resource(s) the token is bound to (`aud`, RFC 8707); empty when unbound. */
  readonly resources?: readonly string[];
  /** The authentication level (`acr`), when the token carries one. */
  readonly acr?: string;
  /** The authentication methods (`amr`). */
  readonly amr?: readonly string[];
  /** `iat`, `auth_time`, `nbf`, `exp` when present and numeric. */
  readonly times: Readonly<Record<string, TimeClaim>>;
  /** Things that would make a verifier reject the token, or that surprise people. */
  readonly warnings: readonly string[];
}

/**
 * Describe a token the way someone debugging Cognito wants to read it: its kind, pool and region,
 * client, groups, scopes, times in words, and warnings. Nothing is verified. Throws a
 * {@link CognitoJwtError} (`ERR_TOKEN_MALFORMED`) when the text is not a JWT (nor a JWE).
 *
 * ```ts
 * const report = describeToken(token, Date.now() / 1000);
 * console.log(report.title, report.issuer?.userPoolId, report.times.exp?.relative);
 * ```
 */
export function describeToken(token: string, nowSeconds: number): TokenReport {
  if (token.split('.').length === 5) return describeEncryptedRefreshToken(token);
  const alb = describeAlbToken(token, nowSeconds);
  if (alb) {
    const username = alb.claims.username ?? alb.claims.email;
    return {
      kind: 'alb',
      ...KINDS.alb,
      prefix: token.slice(0, TOKEN_PREFIX_LENGTH),
      length: token.length,
      header: alb.header,
      claims: alb.claims,
      issuer: alb.issuer === undefined ? undefined : issuerInfo(alb.issuer),
      client: alb.client === undefined ? undefined : { claim: 'client', id: alb.client },
      loadBalancer: alb.loadBalancer,
      username: typeof username === 'string' ? username : undefined,
      groups: [],
      scopes: [],
      times: alb.exp ? { exp: alb.exp } : {},
      warnings: alb.warnings,
    };
  }
  const { header, payload } = decodeUnverified<Record<string, unknown>>(token);
  const kind = kindOf(payload);
  const emulatorRefresh = kind === 'unknown' && looksLikeEmulatorRefreshToken(payload);
  const warnings = [...headerWarnings(header)];
  const times = timeClaims(payload, nowSeconds, warnings);
  warnings.push(...claimWarnings(payload, kind, emulatorRefresh, times, nowSeconds));
  const clientClaim = kind === 'id' ? 'aud' : kind === 'unknown' ? undefined : 'client_id';
  const clientId = clientClaim === undefined ? undefined : payload[clientClaim];
  const groups = payload['cognito:groups'];
  const username = payload['cognito:username'] ?? payload.username;
  const aud = kind === 'access' || kind === 'client-credentials' ? payload.aud : undefined;
  const resources = (typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []).filter(
    (item): item is string => typeof item === 'string',
  );
  const amr = Array.isArray(payload.amr) ? payload.amr.filter((item) => typeof item === 'string') : [];
  return {
    kind: emulatorRefresh ? 'refresh' : kind,
    title: KINDS[emulatorRefresh ? 'refresh' : kind].title,
    explanation: emulatorRefresh ? EMULATOR_REFRESH_EXPLANATION : KINDS[kind].explanation,
    prefix: token.slice(0, TOKEN_PREFIX_LENGTH),
    length: token.length,
    header,
    claims: payload,
    issuer: typeof payload.iss === 'string' ? issuerInfo(payload.iss) : undefined,
    client:
      clientClaim !== undefined && typeof clientId === 'string'
        ? { claim: clientClaim, id: clientId }
        : undefined,
    username: typeof username === 'string' ? username : undefined,
    groups: Array.isArray(groups) ? groups.filter((group) => typeof group === 'string') : [],
    scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    resources,
    ...(typeof payload.acr === 'string' ? { acr: payload.acr } : {}),
    amr,
    times,
    warnings,
  };
}

/**
 * What an `iss` value says about the pool: the pool id and, for a real Cognito issuer, the region.
 *
 * ```ts
 * issuerInfo('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123');
 * // { issuer: '…', userPoolId: 'eu-west-1_AbC123', region: 'eu-west-1', cognito: true }
 * ```
 */
export function issuerInfo(issuer: string): IssuerInfo {
  const lastSegment = issuer.replace(/\/+$/, '').split('/').pop() ?? '';
  const userPoolId = isUserPoolId(lastSegment) ? lastSegment : undefined;
  const region = userPoolId === undefined ? undefined : poolRegion(userPoolId);
  // A real Cognito issuer is one the verifier would derive from that pool id.
  const cognito =
    region !== undefined &&
    undocumentedPartition(region) === undefined &&
    poolIssuers(userPoolId!).includes(issuer);
  return { issuer, userPoolId, region: cognito ? region : undefined, cognito };
}

function kindOf(payload: Record<string, unknown>): TokenKind {
  if (payload.token_use === 'id') return 'id';
  if (payload.token_use !== 'access') return 'unknown';
  const machine =
    payload.username === undefined && payload.sub !== undefined && payload.sub === payload.client_id;
  return machine ? 'client-credentials' : 'access';
}

function looksLikeEmulatorRefreshToken(payload: Record<string, unknown>): boolean {
  return (
    payload.token_use === undefined &&
    typeof payload['cognito:username'] === 'string' &&
    payload.aud === undefined &&
    payload.client_id === undefined
  );
}

function describeEncryptedRefreshToken(token: string): TokenReport {
  let header: Record<string, unknown> = {};
  try {
    header = parseJsonObject(decodeBase64url(token.slice(0, token.indexOf('.')), 'header'), 'header');
  } catch (error) {
    if (!(error instanceof CognitoJwtError)) throw error;
  }
  return {
    kind: 'refresh',
    ...KINDS.refresh,
    prefix: token.slice(0, TOKEN_PREFIX_LENGTH),
    length: token.length,
    header,
    claims: undefined,
    issuer: undefined,
    client: undefined,
    username: undefined,
    groups: [],
    scopes: [],
    times: {},
    warnings: [],
  };
}

function headerWarnings(header: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  if (header.alg !== 'RS256') {
    warnings.push(
      `alg is ${describeValue(header.alg)}: Cognito signs with RS256 only, so verifiers must reject it`,
    );
  }
  if (!isKid(header.kid)) warnings.push('the header has no kid: no key can be chosen to verify it');
  for (const member of ['crit', 'b64']) {
    if (header[member] !== undefined) {
      warnings.push(`the header has "${member}": Cognito never sets it, and this library rejects it`);
    }
  }
  for (const member of KEY_BEARING_HEADERS) {
    if (header[member] !== undefined) {
      warnings.push(
        `the header carries "${member}" (a key or a key URL): ignored, keys come from the pool's JWKS only`,
      );
    }
  }
  return warnings;
}

function timeClaims(
  payload: Record<string, unknown>,
  nowSeconds: number,
  warnings: string[],
): Record<string, TimeClaim> {
  const times: Record<string, TimeClaim> = {};
  for (const claim of TIME_CLAIMS) {
    const value = payload[claim];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > 1e11) {
      warnings.push(`${claim} must be a number of seconds, found ${describeValue(value)}`);
      continue;
    }
    times[claim] = {
      epoch: value,
      iso: new Date(value * 1000).toISOString(),
      relative: relativeWords(claim, value, nowSeconds),
    };
  }
  return times;
}

function claimWarnings(
  payload: Record<string, unknown>,
  kind: TokenKind,
  emulatorRefresh: boolean,
  times: Record<string, TimeClaim>,
  nowSeconds: number,
): string[] {
  const warnings: string[] = [];
  const { exp, nbf, iat } = times;
  if (payload.exp === undefined)
    warnings.push('no exp: every Cognito token has one, and verifiers reject tokens without');
  if (exp && exp.epoch <= nowSeconds)
    warnings.push(`expired ${spanWords(nowSeconds - exp.epoch)} ago (${exp.iso})`);
  if (nbf && nbf.epoch > nowSeconds) warnings.push(`not valid yet: ${nbf.relative}`);
  if (iat && iat.epoch > nowSeconds) {
    warnings.push(`${iat.relative}: the clocks of the issuer and of this machine disagree`);
  }
  if (typeof payload.iss !== 'string')
    warnings.push(`iss must be the pool's issuer URL, found ${describeValue(payload.iss)}`);
  if (kind === 'id') {
    warnings.push('this is an ID token: APIs usually expect the access token');
    if (typeof payload.aud !== 'string')
      warnings.push(`aud must be the app client id, found ${describeValue(payload.aud)}`);
  }
  if ((kind === 'access' || kind === 'client-credentials') && typeof payload.client_id !== 'string') {
    warnings.push(`client_id must be the app client id, found ${describeValue(payload.client_id)}`);
  }
  if (kind === 'unknown' && !emulatorRefresh) {
    warnings.push(`token_use is ${describeValue(payload.token_use)}: expected "id" or "access"`);
  }
  return warnings;
}

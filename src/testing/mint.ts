import { type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys, stringList, typeName } from '../options.ts';
import type { TestKeyPair } from './keys.ts';

export const DEFAULT_TEST_POOL_ID = 'us-east-1_TestPool1';
export const DEFAULT_TEST_CLIENT_ID = 'testclient1234567890abcdef';

/** What a minted token says; every field has a realistic default. */
export interface MintOptions {
  /** Signs the token; its kid goes into the header. */
  key: TestKeyPair;
  /** Default `us-east-1_TestPool1`. */
  userPoolId?: string;
  /** Default `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`; set it for a JWKS server on loopback. */
  issuer?: string;
  /** Default `testclient1234567890abcdef`. */
  clientId?: string;
  /** Default: a random UUID (for client-credentials tokens: the client id). */
  sub?: string;
  /** `cognito:username` / `username`; default: the sub. */
  username?: string;
  groups?: string[];
  /** Space-separated or a list. Access tokens default to `aws.cognito.signin.user.admin`. */
  scope?: string | string[];
  /** Seconds until `exp`; negative for an expired token. Default 3600. */
  expiresIn?: number;
  /** Issue time, epoch milliseconds. Default `Date.now()`. */
  now?: number;
  /**
   * Access tokens only: the resource the token is bound to (`aud`), as Cognito writes it when the
   * client sends `resource=` to `/oauth2/authorize` (RFC 8707, Essentials and Plus plans).
   */
  resource?: string | string[];
  /** The authentication level reached (`acr`), e.g. `urn:cognito:loa:2`. */
  acr?: string;
  /** The authentication methods used (`amr`), e.g. `['pwd', 'otp', 'mfa']`. */
  amr?: string[];
  /** Extra claims, or overrides; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
  /** Header overrides (e.g. `{ alg: 'none' }` for a negative test); `undefined` removes a member. */
  header?: Record<string, unknown>;
}

const MINT_OPTIONS = optionKeys<MintOptions>(
  'mint options',
  {
    key: true,
    userPoolId: true,
    issuer: true,
    clientId: true,
    sub: true,
    username: true,
    groups: true,
    scope: true,
    expiresIn: true,
    now: true,
    claims: true,
    header: true,
    resource: true,
    acr: true,
    amr: true,
  },
  {
    aud: "set clientId: it becomes aud (ID tokens) or client_id (access tokens); resource sets an access token's aud",
    audience:
      "set clientId: it becomes aud (ID tokens) or client_id (access tokens); resource sets an access token's aud",
    tokenUse: 'the function decides it: mintIdToken() or mintAccessToken()',
    kid: 'the kid comes from key; to override it set header: { kid }',
    exp: 'set expiresIn (seconds from now), or claims: { exp }',
    iat: 'set now (epoch milliseconds), or claims: { iat }',
  },
);

// Checked before minting: a misspelt option would mint a token that silently lacks what a test
// meant to put in it.
function checkMintOptions(options: MintOptions): void {
  if (options === undefined) throw new ConfigError('minting needs options, at least { key }');
  checkOptions(MINT_OPTIONS, options);
  const { key, expiresIn, now } = options;
  if (typeof key !== 'object' || key === null || !('privateKey' in key)) {
    throw new ConfigError(`key must be a key pair from generateKeyPair(), got ${typeName(key)}`);
  }
  if (expiresIn !== undefined) checkNumber('expiresIn', expiresIn, { finite: true });
  const { resource, acr, amr } = options;
  if (resource !== undefined) stringList('resource', resource);
  if (acr !== undefined && (typeof acr !== 'string' || acr === ''))
    throw new ConfigError(`acr must be a level name such as "urn:cognito:loa:2", got ${typeName(acr)}`);
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string'))) {
    throw new ConfigError(
      `amr must be an array of method names such as ["pwd", "mfa"], got ${typeName(amr)}`,
    );
  }
  if (now !== undefined) checkNumber('now', now, { finite: true });
}

function issuerFor(options: MintOptions): string {
  if (options.issuer) return options.issuer;
  const userPoolId = options.userPoolId ?? DEFAULT_TEST_POOL_ID;
  const region = userPoolId.split('_', 1)[0];
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/** Sign any header and payload with RS256 (or return them unsigned-but-signed-looking for negative tests). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject,
): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function mint(
  options: MintOptions,
  body: (common: Record<string, unknown>) => Record<string, unknown>,
): string {
  checkMintOptions(options);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const originJti = randomUUID();
  const common: Record<string, unknown> = {
    sub: options.sub ?? randomUUID(),
    iss: issuerFor(options),
    ...(options.groups ? { 'cognito:groups': options.groups } : {}),
    origin_jti: originJti,
    event_id: randomUUID(),
    auth_time: iat,
    ...(options.acr === undefined ? {} : { acr: options.acr }),
    ...(options.amr === undefined ? {} : { amr: [...options.amr] }),
    iat,
    exp: iat + (options.expiresIn ?? 3600),
    jti: randomUUID(),
  };
  const header = withOverrides({ kid: options.key.kid, alg: 'RS256' }, options.header);
  return signJwt(header, withOverrides(body(common), options.claims), options.key.privateKey);
}

/** `aud` for an access token bound to a resource; nothing when it is not bound. */
function resourceClaim(options: MintOptions): Record<string, unknown> {
  const { resource } = options;
  if (resource === undefined) return {};
  return { aud: Array.isArray(resource) ? [...resource] : resource };
}

function scopeString(scope: string | string[] | undefined, fallback: string): string {
  return Array.isArray(scope) ? scope.join(' ') : (scope ?? fallback);
}

/** A Cognito-shaped ID token (`token_use: "id"`, `aud`, `cognito:username`, email). */
export function mintIdToken(options: MintOptions): string {
  if (options?.resource !== undefined) {
    throw new ConfigError(
      "resource binds access tokens only: an ID token's aud is its app client (set clientId)",
    );
  }
  return mint(options, (common) => {
    const username = options.username ?? (common.sub as string);
    return {
      at_hash: randomBytes(16).toString('base64url'),
      ...common,
      aud: options.clientId ?? DEFAULT_TEST_CLIENT_ID,
      token_use: 'id',
      'cognito:username': username,
      email: `${username.replace(/[^\w.-]/g, '')}@example.com`,
      email_verified: true,
    };
  });
}

/** A Cognito-shaped access token for a user (`token_use: "access"`, `client_id`, `username`, `scope`). */
export function mintAccessToken(options: MintOptions): string {
  return mint(options, (common) => ({
    ...common,
    ...resourceClaim(options),
    token_use: 'access',
    scope: scopeString(options.scope, 'aws.cognito.signin.user.admin'),
    client_id: options.clientId ?? DEFAULT_TEST_CLIENT_ID,
    username: options.username ?? common.sub,
    version: 2,
  }));
}

/** A client-credentials (machine-to-machine) access token: `sub` is the client id; no username, no groups. */
export function mintClientCredentialsToken(options: MintOptions): string {
  const clientId = options.clientId ?? DEFAULT_TEST_CLIENT_ID;
  return mint({ ...options, sub: options.sub ?? clientId }, (common) => {
    const { 'cognito:groups': _groups, origin_jti: _origin, event_id: _event, ...rest } = common;
    return {
      ...rest,
      ...resourceClaim(options),
      token_use: 'access',
      scope: scopeString(options.scope, 'default-m2m-resource-server/read'),
      client_id: clientId,
      version: 2,
    };
  });
}

/**
 * A string shaped like a Cognito refresh token: a 5-part compact JWE whose contents are random.
 * It is not a JWT and nothing can verify it; it exists to test code that must reject it.
 */
export function mintRefreshToken(): string {
  const header = Buffer.from(JSON.stringify({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' })).toString(
    'base64url',
  );
  const part = (bytes: number) => randomBytes(bytes).toString('base64url');
  return `${header}.${part(256)}.${part(12)}.${part(1400)}.${part(16)}`;
}

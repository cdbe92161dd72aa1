import { ConfigError, describeValue } from '../errors.ts';
import type { JwksSnapshot } from '../keys/jwks-cache.ts';
import { checkNumber, checkOptions, closestName, optionKeys, typeName } from '../options.ts';
import type {
  CognitoAccessTokenClaims,
  CognitoClaims,
  CognitoIdTokenClaims,
  TokenUse,
} from '../token/claims.ts';
import type { VerifierOptions } from './verifier.ts';

/**
 * What tokens one verifier accepts. `clientId` and `tokenUse` must be written out: `null` opts
 * out of the check explicitly, so a forgotten audience check cannot compile.
 */
export interface VerifierConfig {
  /** `us-east-1_AbC123`; the region, issuer and JWKS URL derive from it. */
  userPoolId: string;
  /** Allowed app client ids (`aud` of ID tokens, `client_id` of access tokens); `null` allows any client. */
  clientId: string | readonly string[] | null;
  /** `'id'`, `'access'`, or `null` for either (`token_use` must still be one of them). */
  tokenUse: TokenUse | null;
  /** The token must be in at least one of these `cognito:groups` (403 otherwise). */
  groups?: string | readonly string[];
  /** The token's `scope` must hold at least one of these (403 otherwise). */
  scopes?: string | readonly string[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`; default 0, at most 300. */
  clockToleranceSeconds?: number;
  /** Overrides the issuer (emulators such as cognito-local, custom set-ups). `http:` only on loopback. */
  issuer?: string;
  /** Overrides the JWKS URL (default `{issuer}/.well-known/jwks.json`). `http:` only on loopback. */
  jwksUri?: string;
  /** A JWKS snapshot (object, or path to a JSON file) loaded at construction: no network at cold start. */
  jwks?: JwksSnapshot | string;
}

/** The claims a config's tokens carry, narrowed by `tokenUse`. */
export type ClaimsFor<Use> = Use extends 'id'
  ? CognitoIdTokenClaims
  : Use extends 'access'
    ? CognitoAccessTokenClaims
    : CognitoClaims;

/** The claims a verifier built from one config or a list of configs returns. */
export type VerifiedClaims<Config> = Config extends readonly (infer Item)[]
  ? Item extends { tokenUse: infer Use }
    ? ClaimsFor<Use>
    : never
  : Config extends { tokenUse: infer Use }
    ? ClaimsFor<Use>
    : never;

/**
 * A config (or list of configs) without members `VerifierConfig` does not have. The verifier's
 * constructor is generic, which turns off TypeScript's excess-property check; this puts it back,
 * so a misspelt `group` for `groups` does not compile.
 */
export type OnlyKnownKeys<Config> = Config extends readonly unknown[]
  ? {
      readonly [Index in keyof Config]: Config[Index] &
        Record<Exclude<keyof Config[Index], keyof VerifierConfig>, never>;
    }
  : Config & Record<Exclude<keyof Config, keyof VerifierConfig>, never>;

/** The checks to run on the claims of a token whose issuer matched a config. */
export interface ClaimRules {
  readonly tokenUse: TokenUse | null;
  readonly clientIds: ReadonlySet<string> | null;
  readonly groups: readonly string[] | undefined;
  readonly scopes: readonly string[] | undefined;
  readonly toleranceSeconds: number;
}

/** One accepted issuer and where its keys are. */
export interface IssuerEntry {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly rules: ClaimRules;
  /** Index of the config it came from (a config may accept two issuer forms). */
  readonly configIndex: number;
}

const POOL_ID = /^[\w-]+_[0-9A-Za-z]+$/;
/** The part of a pool id before the underscore when it names a region (it has a dash): `eu-west-1`. */
const REGION_PREFIX = /^([a-z0-9]+(?:-[a-z0-9]+)+)_[0-9A-Za-z]+$/i;
// The shape every AWS region name follows, not a list of regions (a list ages with every new
// region): an area (`us`, `eu`, `ap`, `il`, ..., with a sub-partition such as `-gov`, `-iso`,
// `-isob`, or a sovereign cloud `eusc-de`), a compass direction, a number.
const DIRECTIONS = [
  'east',
  'west',
  'north',
  'south',
  'central',
  'northeast',
  'northwest',
  'southeast',
  'southwest',
] as const;
const AREA = '(?:[a-z]{2}(?:-(?:gov|iso[a-z]?))?|[a-z]{4}-[a-z]{2})';
const REGION = new RegExp(`^${AREA}-(?:${DIRECTIONS.join('|')})-\\d{1,2}$`);
const REGION_PARTS = new RegExp(`^(${AREA})-([a-z]+)-(\\d{1,2})$`);
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * The keys of {@link VerifierConfig}, checked at run time (plain JavaScript has no compiler, and a
 * misspelt `group` would silently drop a check). The compiler keeps the list complete.
 */
export const VERIFIER_CONFIG_KEYS = optionKeys<VerifierConfig>(
  'the verifier config',
  {
    userPoolId: true,
    clientId: true,
    tokenUse: true,
    groups: true,
    scopes: true,
    clockToleranceSeconds: true,
    issuer: true,
    jwksUri: true,
    jwks: true,
  },
  {
    region: 'the region comes from userPoolId ("eu-west-1_AbC123" is in eu-west-1)',
    audience: 'the audience is the app client id: set clientId',
    aud: 'the audience is the app client id: set clientId',
    ...Object.fromEntries(
      (
        [
          'jwksCache',
          'maxTokenLength',
          'verifiedTokenCache',
          'isRevoked',
          'fetch',
          'clock',
          'timeoutMs',
          'maxBytes',
          'cooldownMs',
          'maxAgeMs',
          'staleIfErrorMs',
          'backoffMs',
          'maxBackoffMs',
          'offline',
        ] satisfies (keyof VerifierOptions)[]
      ).map((name) => [
        name,
        `it is a verifier option, not part of a config: new CognitoVerifier(config, { ${name} })`,
      ]),
    ),
  },
);

/**
 * Advice for a verifier config key found in an options object (`groups` in the verifier's options,
 * `userPoolId` next to an adapter's `verifier`): say where it belongs instead of "unknown option".
 *
 * ```ts
 * optionKeys<MyOptions>('myThing options', { verifier: true }, configKeysBelongIn('verifier: { ... }'));
 * ```
 */
export function configKeysBelongIn(where: string): Record<string, string> {
  return Object.fromEntries(
    [...VERIFIER_CONFIG_KEYS.keys].map((name) => [
      name,
      `it is part of the verifier config, so it belongs in ${where}`,
    ]),
  );
}

/** `https:` anywhere, `http:` only on loopback (emulators and tests). */
export function checkUrl(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new ConfigError(`${name} must be a URL string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: ${describeValue(value)}`);
  }
  if (url.username || url.password) throw new ConfigError(`${name} must not carry credentials`);
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return value;
  throw new ConfigError(
    `${name} must use https: (http: is accepted for loopback hosts only), got ${describeValue(value)}`,
  );
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

export function stringList(name: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.length > 0)
  ) {
    throw new ConfigError(`${name} must be a non-empty string or a non-empty array of non-empty strings`);
  }
  return [...list];
}

/** Whether a string has the shape of a user pool id (`us-east-1_AbC123`, or an emulator's `local_AbC123`). */
export function isUserPoolId(value: string): boolean {
  return value.length <= 55 && POOL_ID.test(value);
}

/**
 * The region a pool id starts with (`us-east-1_AbC123` → `us-east-1`); `undefined` for emulator
 * ids (`local_AbC123`) and for a prefix that is not shaped like an AWS region (`eu-wset-1`).
 *
 * ```ts
 * poolRegion('eu-west-1_AbC123'); // 'eu-west-1'
 * ```
 */
export function poolRegion(userPoolId: string): string | undefined {
  const prefix = REGION_PREFIX.exec(userPoolId)?.[1];
  return prefix !== undefined && REGION.test(prefix) ? prefix : undefined;
}

/** Why a pool id's prefix is not a region, with the likely intended one when a direction is misspelt. */
function regionMistake(userPoolId: string): string | undefined {
  const prefix = REGION_PREFIX.exec(userPoolId)?.[1];
  if (prefix === undefined) return undefined;
  const parts = REGION_PARTS.exec(prefix.toLowerCase());
  const direction = parts?.[2] === undefined ? undefined : closestName(parts[2], DIRECTIONS);
  const suggestion =
    parts !== null && direction !== undefined ? `${parts[1]}-${direction}-${parts[3]}` : undefined;
  return (
    `userPoolId ${describeValue(userPoolId)} starts with ${describeValue(prefix)}, which is not an AWS region ` +
    '(a region is an area, a compass direction and a number, such as "eu-west-1" or "ap-southeast-2")' +
    (suggestion !== undefined && REGION.test(suggestion) ? `; did you mean "${suggestion}"?` : '')
  );
}

/**
 * The issuers a Cognito pool signs with: the original form and the multi-Region ("updated") form.
 *
 * ```ts
 * poolIssuers('eu-west-1_AbC123'); // ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123', 'https://issuer-cognito-idp...']
 * ```
 */
export function poolIssuers(userPoolId: string): string[] {
  const region = poolRegion(userPoolId);
  if (!region) {
    throw new ConfigError(
      regionMistake(userPoolId) ??
        `userPoolId must look like "us-east-1_AbC123" (region, underscore, id), got ${describeValue(userPoolId)}; ` +
          'for an emulator pass its issuer as well',
    );
  }
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return [
    `https://cognito-idp.${region}.${domain}/${userPoolId}`,
    `https://issuer-cognito-idp.${region}.${domain}/${userPoolId}`,
  ];
}

/** Check one config and turn it into the issuers it accepts. Throws {@link ConfigError} on any mistake. */
export function resolveConfig(config: VerifierConfig, configIndex: number): IssuerEntry[] {
  const where = `config ${configIndex}`;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(`${where}: a verifier config must be an object, got ${typeName(config)}`);
  }
  // A misspelt option (`group` for `groups`) would silently drop a check; generics skip TS's excess-property check.
  checkOptions({ ...VERIFIER_CONFIG_KEYS, what: where }, config);
  if (!('clientId' in config))
    throw new ConfigError(`${where}: clientId is required (use null to accept any client)`);
  if (!('tokenUse' in config)) {
    throw new ConfigError(`${where}: tokenUse is required ('id', 'access', or null for either)`);
  }
  const { userPoolId, clientId, tokenUse, groups, scopes, clockToleranceSeconds = 0 } = config;
  if (typeof userPoolId !== 'string' || !isUserPoolId(userPoolId)) {
    throw new ConfigError(
      `${where}: userPoolId must look like "us-east-1_AbC123", got ${describeValue(userPoolId)}`,
    );
  }
  if (tokenUse !== null && tokenUse !== 'id' && tokenUse !== 'access') {
    throw new ConfigError(
      `${where}: tokenUse must be 'id', 'access' or null, got ${describeValue(tokenUse)}`,
    );
  }
  checkNumber(`${where}: clockToleranceSeconds`, clockToleranceSeconds, {
    min: 0,
    max: MAX_CLOCK_TOLERANCE_SECONDS,
  });
  const rules: ClaimRules = {
    tokenUse,
    clientIds: clientId === null ? null : new Set(stringList(`${where}: clientId`, clientId)),
    groups: groups === undefined ? undefined : stringList(`${where}: groups`, groups),
    scopes: scopes === undefined ? undefined : stringList(`${where}: scopes`, scopes),
    toleranceSeconds: clockToleranceSeconds,
  };
  let issuers: string[];
  try {
    issuers =
      config.issuer === undefined ? poolIssuers(userPoolId) : [checkUrl(`${where}: issuer`, config.issuer)];
  } catch (error) {
    if (error instanceof ConfigError && !error.message.startsWith(`${where}: `)) {
      throw new ConfigError(`${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const jwksUri = config.jwksUri === undefined ? undefined : checkUrl(`${where}: jwksUri`, config.jwksUri);
  return issuers.map((issuer) => ({
    issuer,
    jwksUri: jwksUri ?? `${issuer}/.well-known/jwks.json`,
    rules,
    configIndex,
  }));
}

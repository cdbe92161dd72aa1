import { ConfigError, describeValue } from '../errors.ts';
import type { JwksSnapshot } from '../keys/jwks-cache.ts';
import {
  checkNumber,
  checkOptions,
  MAX_CLOCK_TOLERANCE_SECONDS,
  optionKeys,
  stringList,
  typeName,
} from '../options.ts';
import { isUserPoolId } from '../pool/id.ts';
import { issuerJwksUri, poolIssuers, undocumentedDomain } from '../pool/issuers.ts';
import { checkUrl } from '../pool/url.ts';
import type {
  CognitoAccessTokenClaims,
  CognitoClaims,
  CognitoIdTokenClaims,
  TokenUse,
} from '../token/claims.ts';
import {
  type ClaimsSchema,
  type CompiledClaim,
  compileClaimsSchema,
  type SchemaClaims,
} from './claims-schema.ts';
import { checkGroupsClaim, type GroupsClaim, type GroupsSource } from './groups-claim.ts';
import { VERIFIER_OPTION_NAMES } from './verifier-options.ts';

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
  /**
   * The resource URI(s) an access token must be bound to (RFC 8707): its `aud`, a string or an
   * array, must hold one of them exactly; else `ERR_AUDIENCE_MISMATCH` (401). Needs `tokenUse:
   * 'access'` (a compile error and a construction error otherwise): an ID token's `aud` is its app
   * client, so with ID tokens accepted the binding could be passed by the wrong kind of token.
   * Unset: `aud` on an access token is type-checked and otherwise allowed, since tokens not bound
   * to a resource are the common case. `clientId` stays the client check.
   */
  audience?: string | readonly string[];
  /** The token must be in at least one of these groups (403 otherwise); see `groupsClaim`. */
  groups?: string | readonly string[];
  /** The token's `scope` must hold at least one of these (403 otherwise). */
  scopes?: string | readonly string[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat` (and by `maxAuthAge`); default 0, at most 300. */
  clockToleranceSeconds?: number;
  /**
   * Overrides the issuer (emulators such as cognito-local, custom set-ups). `http:` only on
   * loopback. Required, with `jwksUri`, for pools in partitions whose Cognito domain is not
   * documented (`eusc-` regions, `us-iso-*`, `us-isob-*`).
   */
  issuer?: string;
  /** Overrides the JWKS URL (default `{issuer}/.well-known/jwks.json`). `http:` only on loopback. */
  jwksUri?: string;
  /** A JWKS snapshot (object, or path to a JSON file) loaded at construction: no network at cold start. */
  jwks?: JwksSnapshot | string;
  /**
   * Where the token's groups come from, for `groups`, `groupsOf()`, the group and role rules and the
   * service's `X-Auth-Request-Groups`. Default `cognito:groups`. A claim name reads an array of
   * strings; `{ claim, format }` reads another format (`'json'`, `'bracketed'` for Cognito's
   * `"[a, b]"` custom attributes, `'string'`). A value that does not fit is refused, never guessed.
   */
  groupsClaim?: GroupsClaim;
  /**
   * The pool's names for its four authentication levels, lowest first, when it renamed them
   * (`AcrConfiguration`). Default `urn:cognito:loa:1` … `urn:cognito:loa:4`. `requireAcr` orders
   * `acr` by this list and refuses a value outside it.
   */
  acrLevels?: readonly [string, string, string, string];
  /**
   * Custom claims the token must carry, checked after the signature: `{ tenant: 'string', plan:
   * ['free', 'pro'], seats: 'number?' }`. A mismatch is refused with `ERR_CLAIM_INVALID` naming the
   * claim; the verified claims are typed from the schema.
   */
  claims?: ClaimsSchema;
}

/** The claims a config's tokens carry, narrowed by `tokenUse`. */
export type ClaimsFor<Use> = Use extends 'id'
  ? CognitoIdTokenClaims
  : Use extends 'access'
    ? CognitoAccessTokenClaims
    : CognitoClaims;

/** `Claims`, with what the config's `claims` schema promises when it has one. */
export type WithSchema<Config, Claims> = Config extends { claims: infer Schema extends ClaimsSchema }
  ? Claims & SchemaClaims<Schema>
  : Claims;

/** The claims a verifier built from one config or a list of configs returns. */
export type VerifiedClaims<Config> = Config extends readonly (infer Item)[]
  ? Item extends { tokenUse: infer Use }
    ? WithSchema<Item, ClaimsFor<Use>>
    : never
  : Config extends { tokenUse: infer Use }
    ? WithSchema<Config, ClaimsFor<Use>>
    : never;

/** `audience` written next to a `tokenUse` other than `'access'` becomes `never`: a compile error on it. */
type AudienceNeedsAccess<Config> = Config extends { audience: unknown }
  ? Config extends { tokenUse: 'access' }
    ? unknown
    : { audience: never }
  : unknown;

/** One config without members `VerifierConfig` does not have, and `audience` only with access tokens. */
type KnownKeysOf<Config> = Config &
  Record<Exclude<keyof Config, keyof VerifierConfig>, never> &
  AudienceNeedsAccess<Config>;

/**
 * A config (or list of configs) without members `VerifierConfig` does not have. The verifier's
 * constructor is generic, which turns off TypeScript's excess-property check; this puts it back,
 * so a misspelt `group` for `groups` does not compile. It also refuses `audience` with a
 * `tokenUse` other than `'access'`.
 */
export type OnlyKnownKeys<Config> = Config extends readonly unknown[]
  ? { readonly [Index in keyof Config]: KnownKeysOf<Config[Index]> }
  : KnownKeysOf<Config>;

/** The checks to run on the claims of a token whose issuer matched a config. */
export interface ClaimRules {
  readonly tokenUse: TokenUse | null;
  readonly clientIds: ReadonlySet<string> | null;
  readonly groups: readonly string[] | undefined;
  readonly scopes: readonly string[] | undefined;
  readonly toleranceSeconds: number;
  /** Resource URIs one of which `aud` must hold (access tokens only). */
  readonly audience: ReadonlySet<string> | undefined;
  /** Where groups come from; `undefined`: `cognito:groups`. */
  readonly groupsSource: GroupsSource | undefined;
  /** The pool's level names, when the config renames them. */
  readonly acrLevels: readonly string[] | undefined;
  readonly schema: readonly CompiledClaim[] | undefined;
}

/** One accepted issuer and where its keys are. */
export interface IssuerEntry {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly rules: ClaimRules;
  /** Index of the config it came from (a config may accept two issuer forms). */
  readonly configIndex: number;
}

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
    audience: true,
    groupsClaim: true,
    acrLevels: true,
    claims: true,
  },
  {
    region: 'the region comes from userPoolId ("eu-west-1_AbC123" is in eu-west-1)',
    aud: 'set clientId for the app client, or audience for the resource an access token is bound to',
    ...Object.fromEntries(
      Object.keys(VERIFIER_OPTION_NAMES).map((name) => [
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
  const { audience, groupsClaim, acrLevels, claims } = config;
  if (audience !== undefined && tokenUse !== 'access') {
    throw new ConfigError(
      `${where}: audience needs tokenUse: 'access' (got ${describeValue(tokenUse)}): an ID token's aud is its client id, ` +
        'so an ID token whose client id is that URI would pass the resource check',
    );
  }
  const rules: ClaimRules = {
    tokenUse,
    clientIds: clientId === null ? null : new Set(stringList(`${where}: clientId`, clientId)),
    groups: groups === undefined ? undefined : stringList(`${where}: groups`, groups),
    scopes: scopes === undefined ? undefined : stringList(`${where}: scopes`, scopes),
    toleranceSeconds: clockToleranceSeconds,
    audience: audience === undefined ? undefined : new Set(stringList(`${where}: audience`, audience)),
    groupsSource: groupsClaim === undefined ? undefined : checkGroupsClaim(where, groupsClaim),
    acrLevels: acrLevels === undefined ? undefined : checkAcrLevels(where, acrLevels),
    schema: claims === undefined ? undefined : compileClaimsSchema(where, claims),
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
  const undocumented = undocumentedDomain(userPoolId);
  if (undocumented !== undefined && jwksUri === undefined) {
    throw new ConfigError(
      `${where}: ${undocumented}: set jwksUri as well as issuer (deriving it from the issuer would be a guess)`,
    );
  }
  return issuers.map((issuer) => ({
    issuer,
    jwksUri: jwksUri ?? issuerJwksUri(issuer),
    rules,
    configIndex,
  }));
}

/** Four distinct level names, lowest first, each usable in `acr_values` (no whitespace). */
function checkAcrLevels(where: string, value: unknown): readonly string[] {
  if (
    !Array.isArray(value) ||
    value.length !== 4 ||
    !value.every((name) => typeof name === 'string' && /^[\x21-\x7E]+$/.test(name) && !/["\\]/.test(name)) ||
    new Set(value).size !== 4
  ) {
    throw new ConfigError(
      `${where}: acrLevels must list the pool's four level names, lowest first, distinct, printable ASCII without spaces or quotes (AcrConfiguration's names)`,
    );
  }
  return Object.freeze([...value]);
}

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
import { issuerJwksUri, poolIssuers } from '../pool/issuers.ts';
import { checkUrl } from '../pool/url.ts';
import type {
  CognitoAccessTokenClaims,
  CognitoClaims,
  CognitoIdTokenClaims,
  TokenUse,
} from '../token/claims.ts';
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
    jwksUri: jwksUri ?? issuerJwksUri(issuer),
    rules,
    configIndex,
  }));
}

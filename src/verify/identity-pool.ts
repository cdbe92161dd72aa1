/**
 * Verifies the OpenID tokens of Cognito identity pools (`GetOpenIdToken`,
 * `GetOpenIdTokenForDeveloperIdentity`): issuer `https://cognito-identity.amazonaws.com`, RS512,
 * `aud` the identity pool id, `sub` the identity id, `amr` saying whether the identity signed in.
 * Same token parser, bounds, key cache and platform seam as the user-pool verifier; the key set is
 * declared as the identity pools' own (RS512 keys, standard-base64 modulus), so that leniency never
 * reaches a user pool's keys.
 */
import { verifyRs512 } from '#platform';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { IDENTITY_POOL_KEYS, type VerificationKey } from '../keys/jwk.ts';
import {
  declareKeyProfile,
  JWKS_CACHE_OPTION_NAMES,
  JwksCache,
  type JwksCacheOptions,
  type JwksSnapshot,
  type RequestContext,
} from '../keys/jwks-cache.ts';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  MAX_CLOCK_TOLERANCE_SECONDS,
  optionKeys,
  stringList,
  typeName,
} from '../options.ts';
import { checkUrl } from '../pool/url.ts';
import { checkMaxTokenLength, type ParsedToken, parseToken } from '../token/decode.ts';
import { checkTimes } from './claims.ts';
import { checkHeader } from './signature.ts';

/** The issuer of every identity pool's OpenID tokens, in every region. */
export const IDENTITY_POOL_ISSUER = 'https://cognito-identity.amazonaws.com';
/** Where the identity pools publish their keys (one key set for all regions; kids are region-prefixed). */
export const IDENTITY_POOL_JWKS_URI = 'https://cognito-identity.amazonaws.com/.well-known/jwks_uri';

/** The claims of a verified identity-pool OpenID token. */
export interface IdentityPoolClaims {
  iss: string;
  /** The identity pool id (`us-east-1:…`). */
  aud: string;
  /** The identity id (`us-east-1:…`): the identity, not a user pool's `sub`. */
  sub: string;
  /** `["authenticated", <provider>, …]` or `["unauthenticated"]`. */
  amr: string[];
  exp: number;
  iat: number;
  /** `true` when `amr` starts with `authenticated`. */
  authenticated: boolean;
  [claim: string]: unknown;
}

/** What identity-pool tokens a verifier accepts. */
export interface IdentityPoolVerifierConfig {
  /** The identity pool id (or ids) that must be the token's `aud` (`us-east-1:0f1e…`). */
  identityPoolId: string | readonly string[];
  /**
   * Identity pools (by id, among `identityPoolId`) whose guest identities (`amr:
   * ["unauthenticated"]`) are accepted. Default none: a guest is refused with
   * `ERR_IDENTITY_UNAUTHENTICATED`.
   */
  allowUnauthenticated?: readonly string[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`; default 0, at most 300. */
  clockToleranceSeconds?: number;
  /** Overrides the issuer (tests). `http:` only on loopback. */
  issuer?: string;
  /** Overrides the JWKS URL (tests). `http:` only on loopback. */
  jwksUri?: string;
  /** A JWKS snapshot (object, or path to a JSON file) loaded at construction. */
  jwks?: JwksSnapshot | string;
}

/** How an {@link IdentityPoolVerifier} runs: its key cache and limits. */
export interface IdentityPoolVerifierOptions extends JwksCacheOptions {
  /** A key cache shared with other verifiers. */
  jwksCache?: JwksCache;
  /** Largest token accepted (characters). Default 16 KiB. */
  maxTokenLength?: number;
}

const CONFIG_KEYS = optionKeys<IdentityPoolVerifierConfig>(
  'the IdentityPoolVerifier config',
  {
    identityPoolId: true,
    allowUnauthenticated: true,
    clockToleranceSeconds: true,
    issuer: true,
    jwksUri: true,
    jwks: true,
  },
  {
    clientId:
      'an identity-pool token has no app client; its audience is the identity pool: set identityPoolId',
    userPoolId:
      'identity-pool tokens come from the identity pool: set identityPoolId (user-pool tokens: CognitoVerifier)',
    tokenUse: 'identity-pool tokens have no token_use',
    audience: 'the audience is the identity pool id: set identityPoolId',
  },
);

const OPTION_KEYS = optionKeys<IdentityPoolVerifierOptions>('IdentityPoolVerifier options', {
  ...JWKS_CACHE_OPTION_NAMES,
  jwksCache: true,
  maxTokenLength: true,
});

// `{region}:{uuid}`: identity pool ids and identity ids.
const REGIONAL_ID =
  /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function claimError(claim: string, message: string): CognitoJwtError {
  return new CognitoJwtError('ERR_CLAIM_INVALID', `${claim} ${message}`, { claim });
}

/**
 * Verifies OpenID tokens of Cognito identity pools. Every claim is checked: `iss`, `aud` (one of
 * the configured identity pool ids), `sub` (an identity id), `amr` (authenticated, or a guest from
 * a pool named in `allowUnauthenticated`), `exp`, `nbf`, `iat`; the signature is RS512 with a key
 * from the identity pools' JWKS. Works on Node and on Web Crypto (Workers, Deno, browsers).
 *
 * ```ts
 * import { IdentityPoolVerifier } from 'cognito-jwt';
 *
 * const verifier = new IdentityPoolVerifier({ identityPoolId: 'eu-west-1:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b' });
 * const claims = await verifier.verify(openIdToken); // { sub: identity id, amr, authenticated, ... }
 * ```
 */
export class IdentityPoolVerifier {
  readonly #pools: ReadonlySet<string>;
  readonly #guestPools: ReadonlySet<string>;
  readonly #issuer: string;
  readonly #jwksUri: string;
  readonly #tolerance: number;
  readonly #cache: JwksCache;
  readonly #clock: () => number;
  readonly #maxTokenLength: number;

  constructor(config: IdentityPoolVerifierConfig, options: IdentityPoolVerifierOptions = {}) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ConfigError(`the IdentityPoolVerifier config must be an object, got ${typeName(config)}`);
    }
    checkOptions(CONFIG_KEYS, config);
    checkOptions(OPTION_KEYS, options);
    const pools = stringList('identityPoolId', config.identityPoolId);
    for (const id of pools) {
      if (!REGIONAL_ID.test(id)) {
        throw new ConfigError(
          `identityPoolId ${describeValue(id)} is not an identity pool id ("<region>:<uuid>")`,
        );
      }
    }
    this.#pools = new Set(pools);
    const guests = config.allowUnauthenticated ?? [];
    if (!Array.isArray(guests))
      throw new ConfigError('allowUnauthenticated must be an array of identity pool ids');
    for (const id of guests) {
      if (!this.#pools.has(id)) {
        throw new ConfigError(
          `allowUnauthenticated names ${describeValue(id)}, which is not one of identityPoolId`,
        );
      }
    }
    this.#guestPools = new Set(guests);
    this.#tolerance = checkNumber('clockToleranceSeconds', config.clockToleranceSeconds ?? 0, {
      min: 0,
      max: MAX_CLOCK_TOLERANCE_SECONDS,
    });
    this.#issuer = config.issuer === undefined ? IDENTITY_POOL_ISSUER : checkUrl('issuer', config.issuer);
    this.#jwksUri =
      config.jwksUri === undefined ? IDENTITY_POOL_JWKS_URI : checkUrl('jwksUri', config.jwksUri);
    if (options.clock !== undefined) checkFunction('clock', options.clock);
    this.#clock = options.clock ?? Date.now;
    if (options.maxTokenLength !== undefined) checkNumber('maxTokenLength', options.maxTokenLength);
    this.#maxTokenLength = checkMaxTokenLength(options.maxTokenLength);
    if (options.jwksCache !== undefined) {
      if (!(options.jwksCache instanceof JwksCache)) {
        throw new ConfigError(`jwksCache must be a JwksCache, got ${typeName(options.jwksCache)}`);
      }
      const clash = Object.keys(JWKS_CACHE_OPTION_NAMES).find(
        (name) => name !== 'clock' && options[name as keyof JwksCacheOptions] !== undefined,
      );
      if (clash)
        throw new ConfigError(`${clash} belongs to the shared jwksCache; set it when creating the JwksCache`);
      this.#cache = options.jwksCache;
    } else {
      const own: Record<string, unknown> = {};
      for (const name of Object.keys(JWKS_CACHE_OPTION_NAMES)) {
        const value = options[name as keyof JwksCacheOptions];
        if (value !== undefined) own[name] = value;
      }
      this.#cache = new JwksCache(own as JwksCacheOptions);
    }
    declareKeyProfile(this.#cache, this.#jwksUri, IDENTITY_POOL_KEYS);
    if (config.jwks !== undefined) {
      try {
        this.#cache.loadSnapshot(this.#jwksUri, config.jwks);
      } catch (cause) {
        throw new ConfigError(`the jwks snapshot cannot be used: ${(cause as Error).message}`, { cause });
      }
    }
  }

  /** The key cache this verifier uses. */
  get jwksCache(): JwksCache {
    return this.#cache;
  }

  /** The JWKS URL of the identity pools' keys (or the override). */
  get jwksUri(): string {
    return this.#jwksUri;
  }

  /** Fetch the keys now (for example at start-up). */
  async hydrate(): Promise<void> {
    await this.#cache.load(this.#jwksUri);
  }

  /**
   * Verify an identity-pool OpenID token; fetches the JWKS when its key is not loaded yet.
   * Rejects with a {@link CognitoJwtError}.
   */
  async verify(token: string, context?: RequestContext): Promise<IdentityPoolClaims> {
    const parsed = parseToken(token, this.#maxTokenLength);
    const kid = checkHeader(parsed.header, 'RS512');
    // The issuer before any key lookup: a token of another issuer never causes a request.
    if (parsed.payload.iss !== this.#issuer) {
      throw new CognitoJwtError(
        'ERR_ISSUER_MISMATCH',
        `issuer ${describeValue(parsed.payload.iss)} is not accepted (expected "${this.#issuer}")`,
        { claim: 'iss' },
      );
    }
    const key =
      this.#cache.getKeySync(this.#jwksUri, kid, context) ??
      (await this.#cache.getKey(this.#jwksUri, kid, context));
    await this.#checkSignature(parsed, key);
    return this.#checkClaims(parsed.payload);
  }

  async #checkSignature(token: ParsedToken, key: VerificationKey): Promise<void> {
    const invalid = () =>
      new CognitoJwtError('ERR_SIGNATURE_INVALID', 'the signature does not match the token');
    if (key.alg !== 'RS512') {
      throw new CognitoJwtError('ERR_KEY_INVALID', `JWK ${describeValue(key.kid)} is not an RS512 key`, {
        claim: 'kid',
      });
    }
    if (token.signature.length !== key.signatureLength) throw invalid();
    let valid: boolean;
    try {
      valid = await verifyRs512(token.signingInput, token.signature, key.key);
    } catch (cause) {
      throw new CognitoJwtError('ERR_KEY_INVALID', `JWK ${describeValue(key.kid)} could not be imported`, {
        claim: 'kid',
        cause,
      });
    }
    if (!valid) throw invalid();
  }

  #checkClaims(payload: Record<string, unknown>): IdentityPoolClaims {
    checkTimes(payload, this.#clock() / 1000, this.#tolerance);
    const { aud, sub, amr, iat } = payload;
    if (typeof aud !== 'string')
      throw claimError('aud', `must be the identity pool id (a string), found ${describeValue(aud)}`);
    if (!this.#pools.has(aud)) {
      throw new CognitoJwtError(
        'ERR_CLIENT_MISMATCH',
        `aud ${describeValue(aud)} is not an accepted identity pool`,
        {
          claim: 'aud',
        },
      );
    }
    if (typeof sub !== 'string' || !REGIONAL_ID.test(sub)) {
      throw claimError('sub', `must be an identity id ("<region>:<uuid>"), found ${describeValue(sub)}`);
    }
    if (typeof iat !== 'number')
      throw claimError('iat', `must be a number of seconds, found ${describeValue(iat)}`);
    if (!Array.isArray(amr) || amr.length === 0 || !amr.every((item) => typeof item === 'string')) {
      throw claimError('amr', `must be a non-empty array of strings, found ${describeValue(amr)}`);
    }
    const authenticated = amr.includes('authenticated');
    const guest = amr.includes('unauthenticated');
    if (authenticated === guest) {
      throw claimError('amr', 'must say either "authenticated" or "unauthenticated"');
    }
    if (guest && !this.#guestPools.has(aud)) {
      throw new CognitoJwtError(
        'ERR_IDENTITY_UNAUTHENTICATED',
        `the token is a guest (unauthenticated) identity's, and ${aud} is not in allowUnauthenticated`,
        { claim: 'amr' },
      );
    }
    return Object.freeze({ ...payload, amr: [...amr], authenticated }) as IdentityPoolClaims;
  }
}

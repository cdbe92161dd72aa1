import { CognitoJwtError, ConfigError, describeValue, invalidClaim, TokenExpiredError } from '../errors.ts';
import {
  checkNumber,
  checkOptions,
  MAX_CLOCK_TOLERANCE_SECONDS,
  optionKeys,
  stringList,
  typeName,
} from '../options.ts';
import { freezeClaims } from '../verify/token-cache.ts';
import { type AlbArn, checkKeysUrl, keysBaseFor, parseAlbArn } from './arn.ts';
import type { AlbClaims, AlbTokenHeader } from './claims.ts';
import { checkEs256, checkEs256Sync } from './key.ts';
import { ALB_KEY_CACHE_OPTION_KEYS, AlbKeyCache, type AlbKeyCacheOptions, isAlbKid } from './key-cache.ts';
import { DEFAULT_MAX_ALB_TOKEN_LENGTH, type ParsedAlbToken, parseAlbToken } from './parse.ts';

/**
 * Which `x-amzn-oidc-data` tokens an {@link AlbVerifier} accepts. `issuer` and `clientId` must be
 * written out: `null` opts out of the check explicitly, so a forgotten check cannot compile.
 *
 * ```ts
 * const config: AlbVerifierConfig = {
 *   albArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188',
 *   issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
 *   clientId: '1example23456789',
 * };
 * ```
 */
export interface AlbVerifierConfig {
  /**
   * Your load balancer's ARN, or a list (several load balancers, possibly in several regions).
   * The token's `signer` must be one of them, and its key is fetched from the region of that ARN.
   */
  albArn: string | readonly string[];
  /** The IdP's issuer (the header's `iss`); `null` accepts any issuer. */
  issuer: string | readonly string[] | null;
  /** The app client id(s) the load balancer authenticates with (the header's `client`); `null` accepts any. */
  clientId: string | readonly string[] | null;
  /** Seconds of clock skew allowed on `exp` (and `nbf`); default 0, at most 300. */
  clockToleranceSeconds?: number;
  /**
   * Where keys are fetched instead of AWS's key endpoint (tests, emulators): `{keysUrl}/{kid}`,
   * with `{region}` replaced by the region of the signer's ARN. `https:`, or `http:` on loopback.
   */
  keysUrl?: string;
}

/**
 * Verifies the `x-amzn-oidc-accesstoken` header when {@link AlbVerifierOptions.accessToken} is set:
 * a `CognitoVerifier` for the same pool with `tokenUse: 'access'`.
 *
 * ```ts
 * const accessToken: AccessTokenVerifier = new CognitoVerifier({ userPoolId, clientId, tokenUse: 'access' });
 * ```
 */
export interface AccessTokenVerifier {
  verify(token: string): Promise<{ sub: string; token_use: string; [claim: string]: unknown }>;
}

/**
 * How an {@link AlbVerifier} fetches keys and reads requests.
 *
 * ```ts
 * const options: AlbVerifierOptions = { cooldownMs: 10_000, accessToken: accessVerifier };
 * ```
 */
export interface AlbVerifierOptions extends AlbKeyCacheOptions {
  /** A key cache shared with other ALB verifiers; then set the cache's options on it. */
  keyCache?: AlbKeyCache;
  /** Largest `x-amzn-oidc-data` accepted (characters). Default 16 KiB. */
  maxTokenLength?: number;
  /**
   * Also verify `x-amzn-oidc-accesstoken` in {@link AlbVerifier.verifyRequest}, and require its
   * `sub` and `client_id` to match the signed data: the access token adds groups and scopes, which
   * the userinfo claims do not carry.
   */
  accessToken?: AccessTokenVerifier;
}

/**
 * What {@link AlbVerifier.verifyRequest} found in a request's `x-amzn-oidc-*` headers.
 *
 * ```ts
 * const { claims, header, accessToken } = await verifier.verifyRequest(req.headers);
 * ```
 */
export interface AlbIdentity<Access = unknown> {
  /** The verified userinfo claims of `x-amzn-oidc-data`. */
  claims: AlbClaims;
  /** Its verified protected header (`signer`, `client`, `iss`, `exp`). */
  header: AlbTokenHeader;
  /** The verified access token's claims, when `accessToken` is configured. */
  accessToken: Access | undefined;
}

/**
 * Anything that holds request headers: Node's `req.headers`, a Fetch `Headers`, an ALB Lambda
 * event's `headers` or `multiValueHeaders`.
 *
 * ```ts
 * const source: HeaderSource = { 'x-amzn-oidc-data': data };
 * ```
 */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | undefined | null>>;

/** The three header names the load balancer sets on authenticated requests. */
export const ALB_HEADERS = {
  data: 'x-amzn-oidc-data',
  identity: 'x-amzn-oidc-identity',
  accessToken: 'x-amzn-oidc-accesstoken',
} as const;

const CONFIG_KEYS = /* @__PURE__ */ optionKeys<AlbVerifierConfig>('AlbVerifier config', {
  albArn: true,
  issuer: true,
  clientId: true,
  clockToleranceSeconds: true,
  keysUrl: true,
});

// Built in a function so the call is pure to a bundler (its arguments are not literals).
const OPTION_KEYS = /* @__PURE__ */ albVerifierOptionKeys();

function albVerifierOptionKeys() {
  return optionKeys<AlbVerifierOptions>(
    'AlbVerifier options',
    {
      ...Object.fromEntries([...ALB_KEY_CACHE_OPTION_KEYS.keys].map((key) => [key, true])),
      keyCache: true,
      maxTokenLength: true,
      accessToken: true,
    } as Record<keyof AlbVerifierOptions, true>,
    {
      albArn: 'it is part of the config (the first argument)',
      issuer: 'it is part of the config (the first argument)',
      clientId: 'it is part of the config (the first argument)',
    },
  );
}

/** A configured load balancer and the key endpoint of its region. */
interface Signer {
  readonly arn: AlbArn;
  readonly keysBase: string;
}

/** A token whose header passed every check that needs no key. */
interface Candidate {
  readonly token: ParsedAlbToken;
  readonly header: AlbTokenHeader;
  readonly signer: Signer;
}

const MAX_EPOCH_SECONDS = 8.64e12;
const isEpochSeconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_EPOCH_SECONDS;

/**
 * Verifies the `x-amzn-oidc-data` header an Application Load Balancer adds to the requests it
 * authenticated: ES256 over P-256 with the key the load balancer's region publishes for the
 * token's `kid`, the token's `signer` one of your load balancers (any load balancer in a region
 * can sign through the same key service, with any `iss`), `client` and `iss` as configured, and
 * `exp` in the header (the payload's `exp` and `iss`, when present, must agree with it).
 *
 * ```ts
 * const verifier = new AlbVerifier({
 *   albArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188',
 *   issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
 *   clientId: '1example23456789',
 * });
 * const { claims } = await verifier.verifyRequest(req.headers);
 * console.log(claims.sub, claims.email);
 * ```
 */
export class AlbVerifier {
  readonly #signers = new Map<string, Signer>();
  readonly #issuers: ReadonlySet<string> | null;
  readonly #clientIds: ReadonlySet<string> | null;
  readonly #toleranceSeconds: number;
  readonly #cache: AlbKeyCache;
  readonly #clock: () => number;
  readonly #maxTokenLength: number;
  readonly #accessToken: AccessTokenVerifier | undefined;

  constructor(config: AlbVerifierConfig, options: AlbVerifierOptions = {}) {
    checkOptions(CONFIG_KEYS, config);
    if (config === undefined)
      throw new ConfigError('AlbVerifier needs a config with albArn, issuer and clientId');
    checkOptions(OPTION_KEYS, options);
    if (!('issuer' in config)) throw new ConfigError('issuer is required (use null to accept any issuer)');
    if (!('clientId' in config))
      throw new ConfigError('clientId is required (use null to accept any client)');
    const keysUrl = config.keysUrl === undefined ? undefined : checkKeysUrl(config.keysUrl);
    for (const [index, value] of stringList('albArn', config.albArn).entries()) {
      const arn = parseAlbArn(value, Array.isArray(config.albArn) ? `albArn[${index}]` : 'albArn');
      this.#signers.set(arn.arn, { arn, keysBase: keysBaseFor(arn, keysUrl) });
    }
    this.#issuers = config.issuer === null ? null : new Set(stringList('issuer', config.issuer));
    this.#clientIds = config.clientId === null ? null : new Set(stringList('clientId', config.clientId));
    this.#toleranceSeconds = checkNumber('clockToleranceSeconds', config.clockToleranceSeconds ?? 0, {
      min: 0,
      max: MAX_CLOCK_TOLERANCE_SECONDS,
    });
    if (options.keyCache !== undefined) {
      if (!(options.keyCache instanceof AlbKeyCache)) {
        throw new ConfigError(`keyCache must be an AlbKeyCache, got ${typeName(options.keyCache)}`);
      }
      const clash = [...ALB_KEY_CACHE_OPTION_KEYS.keys].find(
        (name) => name !== 'clock' && options[name as keyof AlbKeyCacheOptions] !== undefined,
      );
      if (clash) throw new ConfigError(`${clash} belongs to the shared keyCache; set it when creating it`);
    }
    const { keyCache, maxTokenLength, accessToken, ...cacheOptions } = options;
    this.#cache = keyCache ?? new AlbKeyCache(cacheOptions);
    this.#clock = options.clock ?? Date.now;
    this.#maxTokenLength = checkNumber('maxTokenLength', maxTokenLength ?? DEFAULT_MAX_ALB_TOKEN_LENGTH, {
      min: 64,
      max: 1024 * 1024,
      integer: true,
    });
    if (
      accessToken !== undefined &&
      typeof (accessToken as Partial<AccessTokenVerifier>)?.verify !== 'function'
    ) {
      throw new ConfigError(
        `accessToken must be a verifier (a CognitoVerifier with tokenUse 'access'), got ${typeName(accessToken)}`,
      );
    }
    this.#accessToken = accessToken;
  }

  /** The key cache this verifier uses. */
  get keyCache(): AlbKeyCache {
    return this.#cache;
  }

  /**
   * The configured load balancers and where the key of each is fetched (`{keysBase}/{kid}`).
   *
   * ```ts
   * for (const { albArn, keysBase } of verifier.signers) console.log(albArn, keysBase);
   * ```
   */
  get signers(): { albArn: string; region: string; keysBase: string }[] {
    return [...this.#signers.values()].map(({ arn, keysBase }) => ({
      albArn: arn.arn,
      region: arn.region,
      keysBase,
    }));
  }

  /**
   * Verify an `x-amzn-oidc-data` token; fetches its key when it is not held yet. Resolves to the
   * userinfo claims only after every check passed; rejects with a {@link CognitoJwtError}.
   *
   * ```ts
   * const claims = await verifier.verify(req.headers['x-amzn-oidc-data']);
   * ```
   */
  async verify(token: string): Promise<AlbClaims> {
    return (await this.verifyWithHeader(token)).claims;
  }

  /**
   * {@link verify}, also returning the verified protected header (`signer`, `client`, `iss`, `exp`).
   *
   * ```ts
   * const { claims, header } = await verifier.verifyWithHeader(data);
   * console.log(header.signer);
   * ```
   */
  async verifyWithHeader(token: string): Promise<{ claims: AlbClaims; header: AlbTokenHeader }> {
    const candidate = this.#prepare(token);
    const { signer, header } = candidate;
    const key =
      this.#cache.getKeySync(signer.keysBase, header.kid) ??
      (await this.#cache.getKey(signer.keysBase, header.kid));
    const checking = checkEs256(candidate.token.signingInput, candidate.token.signature, key, header.kid);
    return this.#accept(candidate, typeof checking === 'boolean' ? checking : await checking);
  }

  /**
   * {@link verifyWithHeader} with the keys already held (by an earlier `verify`); never fetches.
   * A key not held yet is `ERR_KEYS_NOT_LOADED`.
   *
   * ```ts
   * const { claims } = verifier.verifySync(data);
   * ```
   */
  verifySync(token: string): { claims: AlbClaims; header: AlbTokenHeader } {
    const candidate = this.#prepare(token);
    const key = this.#cache.getKeySync(candidate.signer.keysBase, candidate.header.kid);
    if (key === undefined) {
      throw new CognitoJwtError(
        'ERR_KEYS_NOT_LOADED',
        `the load balancer key ${candidate.header.kid} is not held yet; verifySync() never fetches, verify() would`,
      );
    }
    return this.#accept(
      candidate,
      checkEs256Sync(candidate.token.signingInput, candidate.token.signature, key),
    );
  }

  /**
   * Verify a request's `x-amzn-oidc-*` headers: `x-amzn-oidc-data` must be present and valid;
   * `x-amzn-oidc-identity`, when present, must equal its `sub` (`ERR_ALB_IDENTITY_MISMATCH`); with
   * the `accessToken` option, `x-amzn-oidc-accesstoken` is verified too and must name the same
   * `sub` and client (`ERR_ALB_ACCESS_TOKEN_MISMATCH`). `options.accessToken` replaces the
   * verifier's own for this call (the HTTP adapters pass theirs).
   *
   * ```ts
   * const { claims, accessToken } = await verifier.verifyRequest(req.headers);
   * ```
   */
  async verifyRequest<Access = unknown>(
    headers: HeaderSource,
    options: { accessToken?: AccessTokenVerifier | undefined } = {},
  ): Promise<AlbIdentity<Access>> {
    const accessVerifier = options.accessToken ?? this.#accessToken;
    const data = readHeader(headers, ALB_HEADERS.data);
    if (data === undefined) {
      throw new CognitoJwtError(
        'ERR_ALB_DATA_MISSING',
        `the request has no ${ALB_HEADERS.data} header: it did not come through the load balancer's authentication`,
      );
    }
    const { claims, header } = await this.verifyWithHeader(data);
    const identity = readHeader(headers, ALB_HEADERS.identity);
    if (identity !== undefined && identity !== claims.sub) {
      throw new CognitoJwtError(
        'ERR_ALB_IDENTITY_MISMATCH',
        `the ${ALB_HEADERS.identity} header ${describeValue(identity)} is not the verified sub ${describeValue(claims.sub)}`,
        { claim: 'sub' },
      );
    }
    if (accessVerifier === undefined) return { claims, header, accessToken: undefined };
    const token = readHeader(headers, ALB_HEADERS.accessToken);
    if (token === undefined) {
      throw new CognitoJwtError(
        'ERR_ALB_DATA_MISSING',
        `the request has no ${ALB_HEADERS.accessToken} header, which this verifier checks`,
      );
    }
    const access = await accessVerifier.verify(token);
    if (access.sub !== claims.sub || (access.client_id !== undefined && access.client_id !== header.client)) {
      const [what, found, expected] =
        access.sub !== claims.sub
          ? ['sub', access.sub, claims.sub]
          : ['client_id', access.client_id, header.client];
      throw new CognitoJwtError(
        'ERR_ALB_ACCESS_TOKEN_MISMATCH',
        `the access token's ${what} ${describeValue(found)} is not the signed data's ${describeValue(expected)}`,
        { claim: what },
      );
    }
    return { claims, header, accessToken: access as Access };
  }

  /** Every check that needs no key, in an order that makes no request for a token not meant for us. */
  #prepare(token: string): Candidate {
    const parsed = parseAlbToken(token, this.#maxTokenLength);
    const { header } = parsed;
    if (header.alg !== 'ES256') {
      throw new CognitoJwtError(
        'ERR_ALG_UNSUPPORTED',
        `alg must be "ES256", found ${describeValue(header.alg)}`,
        {
          claim: 'alg',
        },
      );
    }
    if (header.crit !== undefined || header.b64 !== undefined) {
      const member = header.crit !== undefined ? 'crit' : 'b64';
      throw new CognitoJwtError('ERR_HEADER_UNSUPPORTED', `the header member "${member}" is not supported`, {
        claim: member,
      });
    }
    if (!isAlbKid(header.kid)) {
      throw new CognitoJwtError(
        'ERR_TOKEN_MALFORMED',
        `kid must be a UUID, found ${describeValue(header.kid)}`,
        {
          claim: 'kid',
        },
      );
    }
    // The signer picks the key endpoint: the region comes from our configured ARN, never from the token.
    const signer = typeof header.signer === 'string' ? this.#signers.get(header.signer) : undefined;
    if (signer === undefined) {
      throw new CognitoJwtError(
        'ERR_ALB_SIGNER_MISMATCH',
        `signer ${describeValue(header.signer)} is not a configured load balancer (expected ${[...this.#signers.keys()].join(' or ')})`,
        { claim: 'signer' },
      );
    }
    if (typeof header.client !== 'string')
      throw invalidClaim('client', 'a string (in the header)', header.client);
    if (this.#clientIds !== null && !this.#clientIds.has(header.client)) {
      throw new CognitoJwtError(
        'ERR_CLIENT_MISMATCH',
        `client ${describeValue(header.client)} is not an allowed client (expected ${[...this.#clientIds].join(' or ')})`,
        { claim: 'client' },
      );
    }
    if (typeof header.iss !== 'string') throw invalidClaim('iss', 'a string (in the header)', header.iss);
    if (this.#issuers !== null && !this.#issuers.has(header.iss)) {
      throw new CognitoJwtError(
        'ERR_ISSUER_MISMATCH',
        `issuer ${describeValue(header.iss)} is not accepted (expected ${[...this.#issuers].join(' or ')})`,
        { claim: 'iss' },
      );
    }
    if (!isEpochSeconds(header.exp)) {
      throw invalidClaim('exp', 'a number of seconds in the header (it is required)', header.exp);
    }
    const now = this.#clock() / 1000;
    if (now >= header.exp + this.#toleranceSeconds) throw new TokenExpiredError(header.exp, now);
    return { token: parsed, header: header as AlbTokenHeader, signer };
  }

  #accept(
    { token, header }: Candidate,
    signatureValid: boolean,
  ): { claims: AlbClaims; header: AlbTokenHeader } {
    if (!signatureValid) {
      throw new CognitoJwtError('ERR_SIGNATURE_INVALID', 'the signature does not match the token');
    }
    const { payload } = token;
    // The header is what the load balancer vouches for; a payload that says otherwise is refused.
    for (const claim of ['exp', 'iss'] as const) {
      if (payload[claim] !== undefined && payload[claim] !== header[claim]) {
        throw new CognitoJwtError(
          'ERR_CLAIM_INVALID',
          `the payload's ${claim} ${describeValue(payload[claim])} disagrees with the header's ${describeValue(header[claim])}`,
          { claim },
        );
      }
    }
    if (payload.nbf !== undefined) {
      if (!isEpochSeconds(payload.nbf)) throw invalidClaim('nbf', 'a number of seconds', payload.nbf);
      const now = this.#clock() / 1000;
      if (payload.nbf > now + this.#toleranceSeconds) {
        throw new CognitoJwtError(
          'ERR_TOKEN_NOT_YET_VALID',
          `token is not valid before ${new Date(payload.nbf * 1000).toISOString()}`,
          { claim: 'nbf' },
        );
      }
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw invalidClaim('sub', 'a non-empty string', payload.sub);
    }
    return { claims: freezeClaims(payload) as AlbClaims, header: freezeClaims(header) as AlbTokenHeader };
  }
}

/**
 * One header's value from any {@link HeaderSource}, by its lower-case name; a header sent twice is
 * refused (`ERR_TOKEN_MALFORMED`): the load balancer sets each once.
 *
 * ```ts
 * const data = readHeader(req.headers, 'x-amzn-oidc-data');
 * ```
 */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  let value: unknown;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    value = (headers as { get(name: string): string | null | undefined }).get(name);
  } else {
    const record = headers as Record<string, unknown>;
    value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (value === undefined) {
      // Lambda events and hand-built objects may keep the client's spelling of the name.
      const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
      value = key === undefined ? undefined : record[key];
    }
  }
  if (Array.isArray(value)) {
    if (value.length > 1) {
      throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${name} header is sent ${value.length} times`);
    }
    value = value[0];
  }
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The config keys `AlbVerifier` checks (read by the service config schema). */
export { CONFIG_KEYS as ALB_CONFIG_KEYS };

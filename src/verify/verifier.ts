import { SYNC_SIGNATURES } from '#platform';
import { CognitoJwtError, ConfigError, describeValue, syncUnsupported } from '../errors.ts';
import type { VerificationKey } from '../keys/jwk.ts';
import { JwksCache, type RequestContext } from '../keys/jwks-cache.ts';
import { checkFunction, checkOptions, optionKeys, typeName } from '../options.ts';
import type { CognitoClaims, JwtHeader } from '../token/claims.ts';
import { checkMaxTokenLength, type ParsedToken, parseToken } from '../token/decode.ts';
import { checkClaims } from './claims.ts';
import { explainByClockOffset } from './clock-hint.ts';
import {
  type ClaimRules,
  configKeysBelongIn,
  type IssuerEntry,
  type OnlyKnownKeys,
  resolveConfig,
  type VerifiedClaims,
  type VerifierConfig,
} from './config.ts';
import { DEFAULT_ACR_LEVELS, recordFacts, type VerificationFacts } from './facts.ts';
import { checkHeader, verifySignature, verifySignatureShared } from './signature.ts';
import { freezeClaims, type TokenCacheView, tokenCacheSize, VerifiedTokenCache } from './token-cache.ts';
import { VERIFIER_OPTION_NAMES, type VerifierOptions } from './verifier-options.ts';

export type { VerifierOptions } from './verifier-options.ts';

/**
 * The keys of {@link VerifierOptions} (its own, plus those of the key cache it builds), checked at
 * run time; the compiler keeps the list complete. A config key here (`groups`) says it belongs in
 * the config.
 */
export const VERIFIER_OPTIONS = optionKeys<VerifierOptions>(
  'CognitoVerifier options',
  VERIFIER_OPTION_NAMES,
  configKeysBelongIn('the config (the first argument), not in the options'),
);

/** Header segments a verifier remembers (oldest dropped first); key rotations add one per new key. */
const MAX_KNOWN_HEADERS = 16;

/** A token that passed the structural and issuer checks, with the config its issuer selected. */
interface Candidate {
  token: ParsedToken;
  kid: string;
  entry: IssuerEntry;
}

/**
 * Verifies Cognito ID and access tokens locally against the user pool's JWKS.
 *
 * ```ts
 * const verifier = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' });
 * const claims = await verifier.verify(token); // CognitoAccessTokenClaims
 * console.log(claims.sub, claims.scope);
 * ```
 */
export class CognitoVerifier<
  const Config extends VerifierConfig | readonly VerifierConfig[] = VerifierConfig,
> {
  readonly #issuers = new Map<string, IssuerEntry>();
  readonly #cache: JwksCache;
  readonly #clock: () => number;
  readonly #maxTokenLength: number;
  readonly #isRevoked: ((claims: CognitoClaims) => boolean) | undefined;
  readonly #tokens: VerifiedTokenCache<VerifiedClaims<Config>> | undefined;
  /** Headers of tokens whose signature matched, by segment: a pool signs with a few, each parsed once. */
  readonly #headers = new Map<string, JwtHeader>();
  /**
   * Per config, the facts its rules need (level names, groups source, clock, tolerance); only for
   * configs where the defaults would be wrong, so a plain config files nothing.
   */
  readonly #facts = new Map<ClaimRules, VerificationFacts>();

  constructor(config: Config & OnlyKnownKeys<Config>, options: VerifierOptions = {}) {
    checkOptions(VERIFIER_OPTIONS, options);
    const configs: readonly VerifierConfig[] = Array.isArray(config) ? config : [config as VerifierConfig];
    if (configs.length === 0) throw new ConfigError('at least one verifier config is needed');
    for (const [index, item] of configs.entries()) {
      for (const entry of resolveConfig(item, index)) {
        const other = this.#issuers.get(entry.issuer);
        if (other !== undefined) {
          throw new ConfigError(
            `config ${index}: two configs accept the issuer ${entry.issuer} (config ${other.configIndex} and config ${index}); merge them (clientId accepts a list)`,
          );
        }
        this.#issuers.set(entry.issuer, entry);
      }
    }
    // What is left once the verifier's own options are taken out configures its key cache.
    const { jwksCache, maxTokenLength, verifiedTokenCache, isRevoked, ...cacheOptions } = options;
    if (jwksCache !== undefined) {
      if (!(jwksCache instanceof JwksCache))
        throw new ConfigError(`jwksCache must be a JwksCache, got ${typeName(jwksCache)}`);
      // `clock` serves the verifier too, so it may sit next to a shared cache.
      const clash = Object.keys(cacheOptions).find(
        (name) => name !== 'clock' && cacheOptions[name as keyof typeof cacheOptions] !== undefined,
      );
      if (clash)
        throw new ConfigError(`${clash} belongs to the shared jwksCache; set it when creating the JwksCache`);
    }
    if (options.clock !== undefined) checkFunction('clock', options.clock);
    this.#clock = options.clock ?? Date.now;
    for (const { rules } of this.#issuers.values()) {
      if (
        options.clock !== undefined ||
        rules.toleranceSeconds > 0 ||
        rules.acrLevels !== undefined ||
        rules.groupsSource !== undefined
      ) {
        this.#facts.set(rules, {
          acrLevels: rules.acrLevels ?? DEFAULT_ACR_LEVELS,
          groups: undefined,
          clock: this.#clock,
          toleranceSeconds: rules.toleranceSeconds,
        });
      }
    }
    if (isRevoked !== undefined) checkFunction('isRevoked', isRevoked);
    this.#isRevoked = isRevoked;
    this.#cache = jwksCache ?? new JwksCache(cacheOptions);
    this.#maxTokenLength = checkMaxTokenLength(maxTokenLength);
    const maxEntries = tokenCacheSize(verifiedTokenCache);
    this.#tokens =
      maxEntries === undefined
        ? undefined
        : new VerifiedTokenCache({
            maxEntries,
            clock: this.#clock,
            currentKey: (jwksUri, kid) => this.#cache.getKeySync(jwksUri, kid),
            recheck: (claims) => this.checkRevoked(claims as CognitoClaims),
            onTimeRefused: (error, jwksUri, claims, toleranceSeconds) =>
              this.#explainTime(error, jwksUri, claims, toleranceSeconds),
          });
    for (const [index, item] of configs.entries()) {
      if (item.jwks === undefined) continue;
      for (const entry of this.#issuers.values()) {
        if (entry.configIndex !== index) continue;
        try {
          this.#cache.loadSnapshot(entry.jwksUri, item.jwks);
        } catch (cause) {
          // A snapshot given at construction is configuration: fail now, as a config mistake.
          throw new ConfigError(
            `config ${index}: the jwks snapshot cannot be used: ${(cause as Error).message}`,
            {
              cause,
            },
          );
        }
      }
    }
  }

  /** The key cache this verifier uses (to inspect it, save a snapshot, or share it). */
  get jwksCache(): JwksCache {
    return this.#cache;
  }

  /** The verified-token cache (its size, its bound, and `clear()`), or `undefined` when it is off. */
  get tokenCache(): TokenCacheView | undefined {
    return this.#tokens?.view;
  }

  /** The issuers this verifier accepts, with the JWKS URL of each. */
  get issuers(): { issuer: string; jwksUri: string }[] {
    return [...this.#issuers.values()].map(({ issuer, jwksUri }) => ({ issuer, jwksUri }));
  }

  /**
   * Verify a token; fetches the JWKS when its key is not loaded yet. Resolves to the claims only
   * after the signature and every configured check passed; rejects with a {@link CognitoJwtError}.
   * On Cloudflare Workers pass the `ExecutionContext` as `context`, so a key fetch shared with other
   * requests survives the end of this one.
   */
  async verify(token: string, context?: RequestContext): Promise<VerifiedClaims<Config>> {
    const cached = this.#tokens?.lookup(token);
    if (cached !== undefined) return cached;
    const candidate = this.#prepare(token);
    const { entry, kid } = candidate;
    const key =
      this.#cache.getKeySync(entry.jwksUri, kid, context) ??
      (await this.#cache.getKey(entry.jwksUri, kid, context));
    const checking = verifySignatureShared(candidate.token, key);
    if (checking) await checking;
    return this.#accept(token, candidate, key);
  }

  /**
   * Verify a token with the keys already loaded (by {@link hydrate}, a snapshot, or an earlier
   * `verify`); never touches the network. Throws a {@link CognitoJwtError}.
   */
  verifySync(token: string): VerifiedClaims<Config> {
    if (!SYNC_SIGNATURES) throw syncUnsupported(); // Web Crypto: verify() only
    const cached = this.#tokens?.lookup(token);
    if (cached !== undefined) return cached;
    const candidate = this.#prepare(token);
    const key = this.#keySync(candidate);
    verifySignature(candidate.token, key);
    return this.#accept(token, candidate, key);
  }

  /** Fetch the keys of every configured issuer now (for example at start-up). */
  async hydrate(): Promise<void> {
    const byConfig = new Map<number, IssuerEntry[]>();
    for (const entry of this.#issuers.values())
      byConfig.set(entry.configIndex, [...(byConfig.get(entry.configIndex) ?? []), entry]);
    // A pool answers on its original or its multi-Region issuer: one loaded JWKS per config is enough.
    await Promise.all(
      [...byConfig.values()].map(async (entries) => {
        const results = await Promise.allSettled(entries.map((entry) => this.#cache.load(entry.jwksUri)));
        const failure = results.find((result) => result.status === 'rejected');
        if (failure && results.every((result) => result.status === 'rejected')) throw failure.reason;
      }),
    );
  }

  /**
   * Save the loaded keys of this verifier's pool to a JSON file that the `jwks` config option (or
   * `JwksCache.loadSnapshot`) reads back. With several pools, name the `issuer` whose keys to save.
   *
   * ```ts
   * await verifier.hydrate();
   * await verifier.saveSnapshot('./jwks.json');
   * // next cold start: new CognitoVerifier({ ...config, jwks: './jwks.json' })
   * ```
   */
  async saveSnapshot(path: string, issuer?: string): Promise<void> {
    const entries = [...this.#issuers.values()].filter(
      (entry) => issuer === undefined || entry.issuer === issuer,
    );
    if (entries.length === 0)
      throw new ConfigError(`${describeValue(issuer)} is not an issuer of this verifier`);
    if (new Set(entries.map((entry) => entry.configIndex)).size > 1) {
      throw new ConfigError('this verifier accepts several pools: name the issuer whose keys to save');
    }
    const loaded = entries.find((entry) => this.#cache.inspect(entry.jwksUri).kids.length > 0) ?? entries[0]!;
    await this.#cache.saveSnapshot(loaded.jwksUri, path);
  }

  #prepare(token: string): Candidate {
    const parsed = parseToken(token, this.#maxTokenLength, this.#headers);
    const kid = checkHeader(parsed.header);
    const iss = parsed.payload.iss;
    // The issuer picks the config before any key lookup: an unknown issuer never causes a request.
    const entry = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!entry) {
      const expected = [...this.#issuers.keys()].map((issuer) => `"${issuer}"`).join(' or ');
      throw new CognitoJwtError(
        'ERR_ISSUER_MISMATCH',
        `issuer ${describeValue(iss)} is not accepted (expected ${expected})`,
        {
          claim: 'iss',
        },
      );
    }
    return { token: parsed, kid, entry };
  }

  #keySync({ entry, kid }: Candidate): VerificationKey {
    const key = this.#cache.getKeySync(entry.jwksUri, kid);
    if (key) return key;
    if (!this.#cache.inspect(entry.jwksUri).usable) {
      throw new CognitoJwtError(
        'ERR_KEYS_NOT_LOADED',
        `the keys of ${entry.issuer} are not loaded (or too old to use): call hydrate() first, load a snapshot, or use verify()`,
      );
    }
    throw new CognitoJwtError(
      'ERR_KEY_NOT_FOUND',
      `no loaded key has kid ${describeValue(kid)}; verifySync() never fetches, verify() would`,
      { claim: 'kid' },
    );
  }

  /**
   * Ask the `isRevoked` hook again about claims this verifier returned before, as every `verify`
   * does: throws `ERR_TOKEN_REVOKED` when it refuses them (`ERR_REVOCATION_UNAVAILABLE` when the
   * hook fails); nothing without a hook. For callers that keep verified claims between requests,
   * such as a browser session's read cache, so a revocation still refuses them at the next one.
   *
   * ```ts
   * verifier.checkRevoked(claims); // throws once isRevoked refuses them
   * ```
   */
  checkRevoked(claims: CognitoClaims): void {
    if (this.#isRevoked === undefined) return;
    let revoked: boolean;
    try {
      revoked = this.#isRevoked(claims);
    } catch (cause) {
      if (cause instanceof CognitoJwtError) throw cause;
      // Fail closed, with a code: a broken revocation check must not let a token through.
      throw new CognitoJwtError('ERR_REVOCATION_UNAVAILABLE', 'the isRevoked check failed', { cause });
    }
    if (revoked) {
      throw new CognitoJwtError(
        'ERR_TOKEN_REVOKED',
        'the token was revoked (the isRevoked check refused it)',
      );
    }
  }

  /** An expiry or not-before refusal that this host's clock offset explains says so (server side only). */
  #explainTime(error: unknown, jwksUri: string, claims: object, toleranceSeconds: number): void {
    const { clockOffset } = this.#cache.inspect(jwksUri);
    explainByClockOffset(error, claims, this.#clock(), toleranceSeconds, clockOffset);
  }

  #rememberHeader({ headerSegment, header }: ParsedToken): void {
    if (this.#headers.has(headerSegment)) return;
    if (this.#headers.size >= MAX_KNOWN_HEADERS) this.#headers.delete(this.#headers.keys().next().value!);
    this.#headers.set(headerSegment, Object.freeze(header));
  }

  /** The claims of a token whose signature matched: checked, frozen (cached or not), remembered. */
  #accept(
    token: string,
    { token: parsed, entry, kid }: Candidate,
    key: VerificationKey,
  ): VerifiedClaims<Config> {
    this.#rememberHeader(parsed);
    const facts = this.#facts.get(entry.rules);
    const found: { groups?: readonly string[] } = {};
    let checked: VerifiedClaims<Config>;
    try {
      checked = checkClaims(
        parsed.payload,
        entry.rules,
        this.#clock() / 1000,
        found,
      ) as VerifiedClaims<Config>;
    } catch (error) {
      this.#explainTime(error, entry.jwksUri, parsed.payload, entry.rules.toleranceSeconds);
      throw error;
    }
    const claims = freezeClaims(checked);
    if (facts !== undefined) {
      recordFacts(
        claims,
        found.groups === undefined ? facts : { ...facts, groups: Object.freeze([...found.groups]) },
      );
    }
    this.checkRevoked(claims);
    this.#tokens?.remember(token, {
      claims,
      jwksUri: entry.jwksUri,
      kid,
      key,
      toleranceSeconds: entry.rules.toleranceSeconds,
    });
    return claims;
  }
}

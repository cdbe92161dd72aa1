import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import type { VerificationKey } from '../keys/jwk.ts';
import { JwksCache, type JwksCacheOptions } from '../keys/jwks-cache.ts';
import { checkMaxTokenLength, type ParsedToken, parseToken } from '../token/decode.ts';
import { checkClaims } from './claims.ts';
import { type IssuerEntry, resolveConfig, type VerifiedClaims, type VerifierConfig } from './config.ts';
import { checkHeader, verifySignature, verifySignatureAsync } from './signature.ts';

export interface VerifierOptions extends JwksCacheOptions {
  /** A key cache shared with other verifiers. Without one the verifier owns a cache (no global state). */
  jwksCache?: JwksCache;
  /** Largest token accepted (characters). Default 16 KiB. */
  maxTokenLength?: number;
}

const CACHE_OPTIONS = [
  'fetch',
  'timeoutMs',
  'maxBytes',
  'cooldownMs',
  'maxAgeMs',
  'staleIfErrorMs',
  'backoffMs',
  'maxBackoffMs',
] as const;

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

  constructor(config: Config, options: VerifierOptions = {}) {
    const configs: readonly VerifierConfig[] = Array.isArray(config) ? config : [config as VerifierConfig];
    if (configs.length === 0) throw new ConfigError('at least one verifier config is needed');
    for (const [index, item] of configs.entries()) {
      for (const entry of resolveConfig(item, index)) {
        if (this.#issuers.has(entry.issuer)) {
          throw new ConfigError(
            `two configs accept the issuer ${entry.issuer}; merge them (clientId accepts a list)`,
          );
        }
        this.#issuers.set(entry.issuer, entry);
      }
    }
    if (options.jwksCache) {
      const clash = CACHE_OPTIONS.find((name) => options[name] !== undefined);
      if (clash)
        throw new ConfigError(`${clash} belongs to the shared jwksCache; set it when creating the JwksCache`);
    }
    this.#clock = options.clock ?? Date.now;
    this.#cache = options.jwksCache ?? new JwksCache(options);
    this.#maxTokenLength = checkMaxTokenLength(options.maxTokenLength);
    for (const [index, item] of configs.entries()) {
      if (item.jwks === undefined) continue;
      for (const entry of this.#issuers.values()) {
        if (entry.configIndex === index) this.#cache.loadSnapshot(entry.jwksUri, item.jwks);
      }
    }
  }

  /** The key cache this verifier uses (to inspect it, save a snapshot, or share it). */
  get jwksCache(): JwksCache {
    return this.#cache;
  }

  /** The issuers this verifier accepts, with the JWKS URL of each. */
  get issuers(): { issuer: string; jwksUri: string }[] {
    return [...this.#issuers.values()].map(({ issuer, jwksUri }) => ({ issuer, jwksUri }));
  }

  /**
   * Verify a token; fetches the JWKS when its key is not loaded yet. Resolves to the claims only
   * after the signature and every configured check passed; rejects with a {@link CognitoJwtError}.
   */
  async verify(token: string): Promise<VerifiedClaims<Config>> {
    const candidate = this.#prepare(token);
    const { entry, kid } = candidate;
    const key = this.#cache.getKeySync(entry.jwksUri, kid) ?? (await this.#cache.getKey(entry.jwksUri, kid));
    await verifySignatureAsync(candidate.token, key);
    return this.#claims(candidate);
  }

  /**
   * Verify a token with the keys already loaded (by {@link hydrate}, a snapshot, or an earlier
   * `verify`); never touches the network. Throws a {@link CognitoJwtError}.
   */
  verifySync(token: string): VerifiedClaims<Config> {
    const candidate = this.#prepare(token);
    verifySignature(candidate.token, this.#keySync(candidate));
    return this.#claims(candidate);
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

  #prepare(token: string): Candidate {
    const parsed = parseToken(token, this.#maxTokenLength);
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
    if (this.#cache.inspect(entry.jwksUri).kids.length === 0) {
      throw new CognitoJwtError(
        'ERR_KEYS_NOT_LOADED',
        `the keys of ${entry.issuer} are not loaded: call hydrate() first, load a snapshot, or use verify()`,
      );
    }
    throw new CognitoJwtError(
      'ERR_KEY_NOT_FOUND',
      `no loaded key has kid ${describeValue(kid)}; verifySync() never fetches, verify() would`,
      { claim: 'kid' },
    );
  }

  #claims({ token, entry }: Candidate): VerifiedClaims<Config> {
    return checkClaims(token.payload, entry.rules, this.#clock() / 1000) as VerifiedClaims<Config>;
  }
}

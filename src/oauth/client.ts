import { ConfigError, describeValue } from '../errors.ts';
import { checkBoolean, checkOptions, optionKeys } from '../options.ts';
import { checkSessionOwner } from '../revocation/entries.ts';
import type { RevocationList } from '../revocation/list.ts';
import { isRevocationList } from '../revocation/shape.ts';
import { type ClientConfig, resolveClientConfig, type TokenEndpointClientOptions } from './config.ts';
import { errorFromAnswer, TokenEndpointError } from './errors.ts';
import { issuedTokenExpiry } from './expiry.ts';
import { postForm } from './post-form.ts';
import { ClientCredentialsCache, type ClientCredentialsToken, type IssuedToken } from './token-cache.ts';

/** What the `authorization_code` grant returns (a sign-in through managed login). */
export interface CodeExchangeTokens {
  /** Present when the sign-in asked for the `openid` scope. */
  idToken?: string;
  accessToken: string;
  /** Cognito always returns one for the code grant. */
  refreshToken?: string;
  /** Lifetime of the access token, in seconds. */
  expiresIn: number;
  /** `Bearer` for Cognito. */
  tokenType: string;
}

/** The parts of a code exchange: what came back to the callback, and what the sign-in sent. */
export interface CodeExchange {
  /** The `code` query parameter of the callback (single-use, lives 5 minutes at Cognito). */
  code: string;
  /** The `redirect_uri` the authorization request named, exactly. */
  redirectUri: string;
  /** The PKCE verifier whose S256 challenge the authorization request sent. */
  codeVerifier: string;
}

/** What the `refresh_token` grant returns. */
export interface RefreshedTokens {
  /** Present when the original sign-in asked for the `openid` scope (always, for Cognito's hosted UI and API sign-ins). */
  idToken?: string;
  accessToken: string;
  /** A new refresh token; only when the app client rotates refresh tokens. Keep using the old one otherwise. */
  refreshToken?: string;
  /** Lifetime of the new access token, in seconds. */
  expiresIn: number;
  /** `Bearer` for Cognito. */
  tokenType: string;
}

export interface ClientCredentialsOptions {
  /**
   * Custom scopes to ask for (`{resourceServerId}/{scope}`); Cognito grants every scope enabled
   * on the app client when none are given. Order and duplicates do not matter to the cache.
   */
  scopes?: readonly string[];
  /** Fetch a new token even if the cached one is still fresh (e.g. the API rejected it). */
  forceRenewal?: boolean;
}

/** What `revoke()` may also do once Cognito has revoked the refresh token. */
export interface RevokeOptions {
  /**
   * Add the session to this revocation list after Cognito revoked it, so every verifier that uses
   * the list refuses the session's ID and access tokens too (Cognito's revocation alone does not
   * reach local verification).
   */
  revocationList?: RevocationList;
  /** The session's `origin_jti`, from its verified ID or access token; required with `revocationList`. */
  originJti?: string;
  /**
   * The session's pool (the last segment of its verified token's `iss`): the entry then lives for
   * that pool's token lifetime and counts towards its `maxEntriesPerPool`.
   */
  userPoolId?: string;
  /**
   * The session's user (its verified token's `sub`; needs `userPoolId`): at the cap the list can then
   * fold the user's sessions into one cut-off instead of filling the pool.
   */
  sub?: string;
}

const CLIENT_CREDENTIALS_KEYS = optionKeys<ClientCredentialsOptions>(
  'clientCredentials options',
  { scopes: true, forceRenewal: true },
  { scope: 'scopes is a list: { scopes: ["orders/read"] }' },
);
const CODE_EXCHANGE_KEYS = optionKeys<CodeExchange>('exchangeCode argument', {
  code: true,
  redirectUri: true,
  codeVerifier: true,
});
const REVOKE_KEYS = optionKeys<RevokeOptions>('revoke options', {
  revocationList: true,
  originJti: true,
  userPoolId: true,
  sub: true,
});

/** The endpoint's JSON answer to a successful grant. */
interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

/**
 * Talks to a user pool's token endpoint: exchanges refresh tokens, gets client-credentials
 * (machine-to-machine) tokens and caches them, and revokes refresh tokens. No runtime
 * dependency: it uses the global `fetch`. Options are checked here, once.
 *
 * ```ts
 * const client = new TokenEndpointClient({
 *   domain: 'myapp.auth.us-east-1.amazoncognito.com',
 *   clientId: process.env.CLIENT_ID!,
 *   clientSecret: process.env.CLIENT_SECRET!,
 * });
 * const { accessToken } = await client.clientCredentials({ scopes: ['orders/read'] });
 * await fetch('https://api.example.com/orders', { headers: { authorization: `Bearer ${accessToken}` } });
 * ```
 */
export class TokenEndpointClient {
  readonly #config: ClientConfig;
  readonly #cache: ClientCredentialsCache;

  constructor(options: TokenEndpointClientOptions) {
    this.#config = resolveClientConfig(options);
    this.#cache = new ClientCredentialsCache(
      (scopes) => this.#issueClientCredentials(scopes),
      this.#config.clock,
    );
  }

  /** The token endpoint URL in use. */
  get tokenEndpoint(): string {
    return this.#config.tokenEndpoint;
  }

  /** The revocation endpoint URL in use; `undefined` when it could not be derived and was not given. */
  get revocationEndpoint(): string | undefined {
    return this.#config.revocationEndpoint;
  }

  /** The app client id. */
  get clientId(): string {
    return this.#config.clientId;
  }

  /**
   * Exchange a refresh token for new ID and access tokens (`grant_type=refresh_token`). A refresh
   * token that is revoked, expired, unknown or issued to another client fails with
   * `ERR_OAUTH_INVALID_GRANT`: the user has to sign in again.
   *
   * ```ts
   * const { idToken, accessToken, refreshToken: rotated } = await client.refresh(refreshToken);
   * ```
   */
  async refresh(refreshToken: string): Promise<RefreshedTokens> {
    checkTokenArgument(refreshToken, 'refresh');
    const answer = await this.#grant('refresh_token', { refresh_token: refreshToken });
    return {
      ...(answer.id_token === undefined ? {} : { idToken: answer.id_token }),
      accessToken: answer.access_token,
      ...(answer.refresh_token === undefined || answer.refresh_token === refreshToken
        ? {}
        : { refreshToken: answer.refresh_token }),
      expiresIn: answer.expires_in,
      tokenType: answer.token_type,
    };
  }

  /**
   * Exchange an authorization code for tokens (`grant_type=authorization_code`, with the PKCE
   * verifier). A used, expired or unknown code fails with `ERR_OAUTH_INVALID_GRANT`. The tokens are
   * not verified here: `cognito-jwt/session` verifies them (and the ID token's `nonce`).
   *
   * ```ts
   * const { idToken, accessToken, refreshToken } = await client.exchangeCode({ code, redirectUri, codeVerifier });
   * ```
   */
  async exchangeCode(exchange: CodeExchange): Promise<CodeExchangeTokens> {
    checkOptions(CODE_EXCHANGE_KEYS, exchange);
    if (exchange === undefined)
      throw new ConfigError('exchangeCode needs { code, redirectUri, codeVerifier }');
    for (const name of ['code', 'redirectUri', 'codeVerifier'] as const) {
      if (typeof exchange[name] !== 'string' || exchange[name].length === 0) {
        throw new TokenEndpointError(
          'ERR_OAUTH_INVALID_REQUEST',
          `exchangeCode needs ${name} (a non-empty string), got ${describeValue(exchange[name])}`,
        );
      }
    }
    const answer = await this.#grant('authorization_code', {
      code: exchange.code,
      redirect_uri: exchange.redirectUri,
      code_verifier: exchange.codeVerifier,
    });
    return {
      ...(answer.id_token === undefined ? {} : { idToken: answer.id_token }),
      accessToken: answer.access_token,
      ...(answer.refresh_token === undefined ? {} : { refreshToken: answer.refresh_token }),
      expiresIn: answer.expires_in,
      tokenType: answer.token_type,
    };
  }

  /**
   * A client-credentials access token for these scopes, from the cache while it is more than the
   * expiry margin (default 60 s) from expiring. Cognito bills each issued token, so concurrent
   * callers share one request. Needs a client secret.
   *
   * ```ts
   * const { accessToken, expiresAt } = await client.clientCredentials({ scopes: ['orders/read'] });
   * ```
   */
  async clientCredentials(options: ClientCredentialsOptions = {}): Promise<ClientCredentialsToken> {
    if (!this.#config.confidential) {
      throw new ConfigError('the client_credentials grant needs a clientSecret (a confidential app client)');
    }
    checkOptions(CLIENT_CREDENTIALS_KEYS, options);
    if (options.forceRenewal !== undefined) checkBoolean('forceRenewal', options.forceRenewal);
    return this.#cache.get(normaliseScopes(options.scopes), options.forceRenewal === true);
  }

  /** Drop every cached client-credentials token. */
  clearCache(): void {
    this.#cache.clear();
  }

  /**
   * Revoke a refresh token and the access tokens issued from it (`/oauth2/revoke`). Cognito
   * answers 200 for tokens that are already revoked or unknown too. Access tokens that were
   * already handed out stay valid for local verification until they expire, unless a
   * `revocationList` is given: the session's `origin_jti` is then added to it after Cognito answered.
   *
   * ```ts
   * await client.revoke(refreshToken); // on sign-out
   * // and refused everywhere; the pool and user let the list fold a user's sessions at its cap
   * await client.revoke(refreshToken, {
   *   revocationList,
   *   originJti: claims.origin_jti,
   *   userPoolId: 'eu-west-1_AbC123',
   *   sub: claims.sub,
   * });
   * ```
   */
  async revoke(refreshToken: string, options: RevokeOptions = {}): Promise<void> {
    checkTokenArgument(refreshToken, 'revoke');
    checkOptions(REVOKE_KEYS, options);
    const { revocationList, originJti, userPoolId, sub } = options;
    if (revocationList !== undefined && !isRevocationList(revocationList)) {
      throw new ConfigError(`revocationList must be a RevocationList, got ${describeValue(revocationList)}`);
    }
    if (revocationList !== undefined && (typeof originJti !== 'string' || originJti.length === 0)) {
      // Checked before anything is sent: a sign-out must not half-happen.
      throw new ConfigError(
        "revoke with a revocationList needs the session's originJti (the origin_jti claim of its ID or access token); tokens without one can only be revoked with revokeUser",
      );
    }
    if (revocationList === undefined && (userPoolId !== undefined || sub !== undefined)) {
      throw new ConfigError('revoke: userPoolId and sub go with a revocationList');
    }
    // The pool and user are checked here too, for the same reason (a malformed one throws in revokeSession).
    const owner = revocationList === undefined ? {} : checkSessionOwner(userPoolId, sub);
    const { revocationEndpoint } = this.#config;
    if (revocationEndpoint === undefined) {
      throw new ConfigError('no revocation endpoint: pass revocationEndpoint, or a domain');
    }
    const what = `revocation at ${revocationEndpoint}`;
    const answer = await postForm(
      revocationEndpoint,
      new URLSearchParams({ token: refreshToken, ...this.#config.formFields }),
      { fetch: this.#config.fetch, timeoutMs: this.#config.timeoutMs, headers: this.#config.headers, what },
    );
    if (answer.status !== 200) throw errorFromAnswer(what, answer.status, answer.body);
    await revocationList?.revokeSession(originJti as string, owner);
  }

  async #issueClientCredentials(scopes: readonly string[]): Promise<IssuedToken> {
    const receivedAt = this.#config.clock();
    const answer = await this.#grant(
      'client_credentials',
      scopes.length > 0 ? { scope: scopes.join(' ') } : {},
    );
    const { expiresAt, renewAt } = issuedTokenExpiry(
      [answer.access_token],
      answer.expires_in,
      receivedAt,
      this.#config.marginMs,
    );
    return {
      token: {
        accessToken: answer.access_token,
        tokenType: answer.token_type,
        expiresAt: new Date(expiresAt),
        scope: answer.scope,
      },
      renewAt,
    };
  }

  async #grant(grantType: string, fields: Record<string, string>): Promise<TokenAnswer> {
    const { tokenEndpoint } = this.#config;
    const what = `the ${grantType} grant at ${tokenEndpoint}`;
    const answer = await postForm(
      tokenEndpoint,
      new URLSearchParams({ grant_type: grantType, ...fields, ...this.#config.formFields }),
      { fetch: this.#config.fetch, timeoutMs: this.#config.timeoutMs, headers: this.#config.headers, what },
    );
    if (answer.status !== 200) throw errorFromAnswer(what, answer.status, answer.body);
    return readTokenAnswer(what, answer.body);
  }
}

function readTokenAnswer(what: string, body: unknown): TokenAnswer {
  const invalid = (reason: string) =>
    new TokenEndpointError('ERR_OAUTH_SERVER_ERROR', `${what} answered HTTP 200 but ${reason}`, {
      httpStatus: 200,
    });
  if (typeof body !== 'object' || body === null) throw invalid('not with a JSON object');
  const fields = body as Record<string, unknown>;
  const expiresIn = typeof fields.expires_in === 'string' ? Number(fields.expires_in) : fields.expires_in;
  if (typeof fields.access_token !== 'string' || fields.access_token.length === 0) {
    throw invalid('without an access_token');
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw invalid(
      `with expires_in ${describeValue(fields.expires_in)}, expected a positive number of seconds`,
    );
  }
  for (const name of ['id_token', 'refresh_token', 'scope', 'token_type'] as const) {
    if (fields[name] !== undefined && typeof fields[name] !== 'string') {
      throw invalid(`with a ${name} that is not a string`);
    }
  }
  return {
    access_token: fields.access_token,
    token_type: (fields.token_type as string | undefined) ?? 'Bearer',
    expires_in: expiresIn,
    ...(fields.id_token === undefined ? {} : { id_token: fields.id_token as string }),
    ...(fields.refresh_token === undefined ? {} : { refresh_token: fields.refresh_token as string }),
    ...(fields.scope === undefined ? {} : { scope: fields.scope as string }),
  };
}

/** A missing refresh token is refused here, before anything is sent. */
function checkTokenArgument(token: unknown, operation: string): void {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TokenEndpointError(
      'ERR_OAUTH_INVALID_REQUEST',
      `${operation} needs a refresh token (a non-empty string), got ${typeof token === 'string' ? 'an empty string' : describeValue(token)}`,
    );
  }
}

function normaliseScopes(scopes: unknown): string[] {
  if (scopes === undefined) return [];
  if (
    !Array.isArray(scopes) ||
    !scopes.every((scope) => typeof scope === 'string' && scope.length > 0 && !/\s/.test(scope))
  ) {
    throw new ConfigError(
      'scopes must be an array of non-empty strings without spaces, e.g. ["orders/read"]',
    );
  }
  return [...new Set(scopes as string[])].sort();
}

import { EventEmitter } from 'node:events';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { checkBoolean, checkFunction, checkOptions, optionKeys } from '../options.ts';
import { sessionOwnerOf } from '../revocation/entries.ts';
import type { RevocationList } from '../revocation/list.ts';
import { isRevocationList } from '../revocation/shape.ts';
import { type RefreshedTokens, TokenEndpointClient } from './client.ts';
import { DEFAULT_EXPIRY_MARGIN_SECONDS, positive } from './config.ts';
import { TokenEndpointError } from './errors.ts';
import { heldTokenExpiry, issuedTokenExpiry, type TokenExpiry } from './expiry.ts';

/** A user's tokens, as the sign-in returned them. */
export interface SessionTokens {
  accessToken: string;
  idToken?: string;
  refreshToken: string;
}

/** The tokens a session currently holds. Handle them like passwords: never log them. */
export interface CurrentTokens {
  accessToken: string;
  idToken: string | undefined;
  /** Changes after a refresh when the app client rotates refresh tokens: store the new one. */
  refreshToken: string;
  expiresAt: Date;
}

export interface TokenSessionOptions {
  /** Tokens are refreshed this long before they expire (at most half their lifetime). Default 60 s. */
  expiryMarginSeconds?: number;
  /** Refresh in the background when the margin is reached, not only when a token is asked for. Default false. */
  autoRefresh?: boolean;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
  /**
   * `revoke()` adds the session's `origin_jti` to this list after Cognito revoked it (sign-out
   * everywhere). Needs `verifier`: the `origin_jti` is read from verified claims only.
   */
  revocationList?: RevocationList;
  /**
   * Verifies the session's tokens before `revoke()` reads their `origin_jti` (a `CognitoVerifier`
   * for the pool; either token kind). Required with `revocationList`.
   */
  verifier?: SessionTokenVerifier;
}

/**
 * What {@link TokenSessionOptions.verifier} must do: verify a token into its claims (a `CognitoVerifier`
 * does). `iss` and `sub`, when given, tell the revocation list the session's pool and user.
 */
export interface SessionTokenVerifier {
  verify(
    token: string,
  ): Promise<{ readonly origin_jti?: unknown; readonly iss?: unknown; readonly sub?: unknown }>;
}

/** The session a revocation names: its `origin_jti`, and its pool and user when the claims give them. */
interface VerifiedSession {
  originJti: string;
  userPoolId?: string;
  sub?: string;
}

// The keys of the tokens and of the options, checked at run time; the compiler keeps them complete.
const SESSION_TOKEN_KEYS = optionKeys<SessionTokens>(
  'tokens',
  { accessToken: true, idToken: true, refreshToken: true },
  {
    expiresIn: 'the expiry is read from the tokens themselves',
    tokenType: 'Cognito tokens are Bearer tokens',
  },
);
const SESSION_OPTIONS = optionKeys<TokenSessionOptions>(
  'TokenSession options',
  { expiryMarginSeconds: true, autoRefresh: true, clock: true, revocationList: true, verifier: true },
  {
    timeoutMs: 'it is a TokenEndpointClient option: new TokenEndpointClient({ ..., timeoutMs })',
    fetch: 'it is a TokenEndpointClient option: new TokenEndpointClient({ ..., fetch })',
    clientId: 'it is a TokenEndpointClient option: new TokenEndpointClient({ ..., clientId })',
  },
);

/** What a {@link TokenSession} emits. No event carries a token. */
export interface TokenSessionEvents {
  /** New tokens arrived. */
  refreshed: [info: { expiresAt: Date; refreshTokenRotated: boolean }];
  /** A refresh failed (network, timeout, server, or the refresh token was rejected). */
  failed: [error: CognitoJwtError];
  /** The refresh token was rejected or revoked: the session is over, the user must sign in again. */
  ended: [error: TokenEndpointError];
}

/**
 * Holds one user's tokens and keeps them fresh: asking for a token refreshes it (once, however
 * many callers ask at the same time) when it is within the margin of its expiry, read from the
 * tokens' own `exp`. A rejected refresh token ends the session: the `ended` event fires and every
 * later call throws `ERR_OAUTH_INVALID_GRANT` without a request. Tokens are kept in private
 * fields, so logging the session shows none of them.
 *
 * ```ts
 * const session = new TokenSession(client, { accessToken, idToken, refreshToken });
 * session.on('ended', () => redirectToSignIn());
 * const response = await fetch(url, { headers: { authorization: `Bearer ${await session.getAccessToken()}` } });
 * ```
 */
export class TokenSession extends EventEmitter<TokenSessionEvents> {
  readonly #client: TokenEndpointClient;
  readonly #clock: () => number;
  readonly #marginMs: number;
  readonly #autoRefresh: boolean;
  readonly #revocationList: RevocationList | undefined;
  readonly #verifier: SessionTokenVerifier | undefined;
  #accessToken: string;
  #idToken: string | undefined;
  #refreshToken: string;
  #expiry: TokenExpiry;
  #inFlight: Promise<void> | undefined;
  #endedBy: TokenEndpointError | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: TokenEndpointClient, tokens: SessionTokens, options: TokenSessionOptions = {}) {
    super();
    if (!(client instanceof TokenEndpointClient)) {
      throw new ConfigError(`a TokenSession needs a TokenEndpointClient, got ${describeValue(client)}`);
    }
    if (tokens === undefined) throw new ConfigError('a TokenSession needs the tokens of a sign-in');
    checkOptions(SESSION_TOKEN_KEYS, tokens);
    checkOptions(SESSION_OPTIONS, options);
    for (const name of ['accessToken', 'refreshToken'] as const) {
      if (typeof tokens[name] !== 'string' || tokens[name].length === 0) {
        throw new ConfigError(`tokens.${name} must be a non-empty string, got ${typeof tokens[name]}`);
      }
    }
    if (tokens.idToken !== undefined && (typeof tokens.idToken !== 'string' || tokens.idToken.length === 0)) {
      throw new ConfigError(
        `tokens.idToken must be a non-empty string when given, got ${typeof tokens.idToken}`,
      );
    }
    if (options.clock !== undefined) checkFunction('clock', options.clock);
    if (options.autoRefresh !== undefined) checkBoolean('autoRefresh', options.autoRefresh);
    if (options.revocationList !== undefined && !isRevocationList(options.revocationList)) {
      throw new ConfigError(
        `revocationList must be a RevocationList, got ${describeValue(options.revocationList)}`,
      );
    }
    if (
      options.verifier !== undefined &&
      typeof (options.verifier as Partial<SessionTokenVerifier> | null)?.verify !== 'function'
    ) {
      throw new ConfigError(`verifier must be a CognitoVerifier, got ${describeValue(options.verifier)}`);
    }
    if (options.revocationList !== undefined && options.verifier === undefined) {
      throw new ConfigError(
        "revocationList needs a verifier (a CognitoVerifier for the pool): revoke() adds the session's origin_jti, read from verified claims only",
      );
    }
    this.#revocationList = options.revocationList;
    this.#verifier = options.verifier;
    this.#client = client;
    this.#clock = options.clock ?? Date.now;
    this.#marginMs =
      positive('expiryMarginSeconds', options.expiryMarginSeconds, DEFAULT_EXPIRY_MARGIN_SECONDS, 0) * 1000;
    this.#autoRefresh = options.autoRefresh === true;
    this.#accessToken = tokens.accessToken;
    this.#idToken = tokens.idToken;
    this.#refreshToken = tokens.refreshToken;
    this.#expiry = heldTokenExpiry([tokens.accessToken, tokens.idToken], this.#clock(), this.#marginMs);
    this.#schedule();
  }

  /** When the current access (and ID) token expires. */
  get expiresAt(): Date {
    return new Date(this.#expiry.expiresAt);
  }

  /** True once the refresh token was rejected or revoked. */
  get ended(): boolean {
    return this.#endedBy !== undefined;
  }

  /** A valid access token, refreshed first when it is within the margin of expiring. */
  async getAccessToken(): Promise<string> {
    return (await this.getTokens()).accessToken;
  }

  /** A valid ID token (refreshed like the access token); `undefined` if the session has none. */
  async getIdToken(): Promise<string | undefined> {
    return (await this.getTokens()).idToken;
  }

  /** All current tokens, refreshed first when needed. */
  async getTokens(): Promise<CurrentTokens> {
    this.#throwIfEnded();
    if (this.#clock() >= this.#expiry.renewAt) await this.refresh();
    return {
      accessToken: this.#accessToken,
      idToken: this.#idToken,
      refreshToken: this.#refreshToken,
      expiresAt: this.expiresAt,
    };
  }

  /** Refresh now, whatever the tokens' age; joins a refresh already under way. */
  refresh(): Promise<void> {
    if (this.#endedBy) return Promise.reject(this.#endedBy);
    this.#inFlight ??= this.#doRefresh().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /**
   * Revoke the refresh token at the endpoint (sign-out) and end the session. With a
   * `revocationList`, the session's `origin_jti`, read from its current tokens once `verifier`
   * verified them (refreshed first when they are within the margin of expiring), is then added to
   * it, with the pool and `sub` of those verified claims (so the list can fold the user's sessions at
   * its cap), and verifiers using the list refuse its tokens at once.
   */
  async revoke(): Promise<void> {
    this.#throwIfEnded();
    if (this.#revocationList === undefined) await this.#client.revoke(this.#refreshToken);
    else {
      const session = await this.#verifiedSession();
      if (session === undefined) await this.#client.revoke(this.#refreshToken);
      else
        await this.#client.revoke(this.#refreshToken, { revocationList: this.#revocationList, ...session });
    }
    this.#end(new TokenEndpointError('ERR_OAUTH_INVALID_GRANT', 'the session was revoked (signed out)'));
  }

  /** Stop the background refresh timer; the session still refreshes when asked for a token. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #doRefresh(): Promise<void> {
    const receivedAt = this.#clock();
    let refreshed: RefreshedTokens;
    try {
      refreshed = await this.#client.refresh(this.#refreshToken);
    } catch (error) {
      const failure =
        error instanceof CognitoJwtError
          ? error
          : new TokenEndpointError('ERR_OAUTH_SERVER_ERROR', 'the refresh failed', { cause: error });
      this.emit('failed', failure);
      if (failure.code === 'ERR_OAUTH_INVALID_GRANT') {
        const rejection = failure instanceof TokenEndpointError ? failure : undefined;
        this.#end(
          new TokenEndpointError(
            'ERR_OAUTH_INVALID_GRANT',
            `the session has ended: the refresh token was rejected (${failure.message}); sign in again`,
            {
              cause: failure,
              oauthError: rejection?.oauthError,
              errorDescription: rejection?.errorDescription,
              httpStatus: rejection?.httpStatus,
            },
          ),
        );
        this.#throwIfEnded();
      }
      throw failure;
    }
    this.#throwIfEnded(); // revoked while the refresh was under way
    this.#accessToken = refreshed.accessToken;
    this.#idToken = refreshed.idToken;
    const rotated = refreshed.refreshToken !== undefined;
    if (refreshed.refreshToken !== undefined) this.#refreshToken = refreshed.refreshToken;
    this.#expiry = issuedTokenExpiry(
      [refreshed.accessToken, refreshed.idToken],
      refreshed.expiresIn,
      receivedAt,
      this.#marginMs,
    );
    this.#schedule();
    this.emit('refreshed', { expiresAt: this.expiresAt, refreshTokenRotated: rotated });
  }

  #schedule(): void {
    this.close();
    if (!this.#autoRefresh || this.#endedBy) return;
    // setTimeout takes at most 2^31-1 ms; a later renewal is re-armed when this one fires.
    const delay = Math.min(Math.max(0, this.#expiry.renewAt - this.#clock()), 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#clock() < this.#expiry.renewAt) this.#schedule();
      // A failure is reported through the `failed` and `ended` events; the next call retries.
      else this.refresh().catch(() => {});
    }, delay);
    this.#timer.unref();
  }

  #end(error: TokenEndpointError): void {
    if (this.#endedBy) return;
    this.#endedBy = error;
    this.close();
    this.emit('ended', error);
  }

  /**
   * The session's `origin_jti` (with its pool and `sub`), from the first of its current tokens that
   * `verifier` accepts (a token passed in by the caller is not trusted until then); `undefined` when
   * a token is refused as already revoked (the list holds the session). Throws the first refusal
   * otherwise.
   */
  async #verifiedSession(): Promise<VerifiedSession | undefined> {
    const tokens = await this.getTokens();
    let refusal: unknown;
    for (const token of [tokens.accessToken, tokens.idToken]) {
      if (token === undefined) continue;
      let claims: Awaited<ReturnType<SessionTokenVerifier['verify']>>;
      try {
        claims = await (this.#verifier as SessionTokenVerifier).verify(token);
      } catch (error) {
        if (error instanceof CognitoJwtError && error.code === 'ERR_TOKEN_REVOKED') return undefined;
        refusal ??= error;
        continue;
      }
      const value = claims.origin_jti;
      if (typeof value === 'string' && value.length > 0)
        return { originJti: value, ...sessionOwnerOf(claims) };
      throw new ConfigError(
        'the session tokens carry no origin_jti (token revocation is off for the app client): use RevocationList.revokeUser instead',
      );
    }
    throw refusal;
  }

  #throwIfEnded(): void {
    if (this.#endedBy) throw this.#endedBy;
  }
}

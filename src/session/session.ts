import { base64urlText, randomBytes, sha256 } from '#platform';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { TokenEndpointClient } from '../oauth/client.ts';
import { TokenEndpointError } from '../oauth/errors.ts';
import { checkOptions, optionKeys } from '../options.ts';
import { sessionOwnerOf } from '../revocation/entries.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { decodeUnverified } from '../token/decode.ts';
import { evictOne } from '../verify/token-cache.ts';
import {
  resolveSessionConfig,
  type SessionConfig,
  type SessionOptions,
  type SessionVerifier,
} from './config.ts';
import { chunk, clearCookie, MAX_COOKIE_BYTES, readCookies, setCookie } from './cookies.ts';
import { SessionError } from './errors.ts';
import { Sealer } from './seal.ts';
import type { StoredSession, StoredSessionSummary } from './store.ts';

/** The parts of an HTTP request the door reads; every adapter builds one from its framework's request. */
export interface SessionRequest {
  /** `GET`, `POST`, ... */
  readonly method: string;
  /** The request target: path and query (`/auth/callback?code=...`), or an absolute URL. */
  readonly url: string;
  /** A request header by lower-case name; `undefined` when absent. */
  header(name: string): string | undefined;
}

/** An answer of the door: a redirect with its headers and the cookies to set. */
export interface SessionAnswer {
  /** 303 for every redirect of the door. */
  readonly status: number;
  /** `location`, `cache-control`, `referrer-policy`. */
  readonly headers: Readonly<Record<string, string>>;
  /** `Set-Cookie` values, one header each. */
  readonly cookies: readonly string[];
}

/** What a session read gives: the verified claims, and the cookies to send back (after a refresh). */
export interface SessionRead<Claims = CognitoClaims> {
  /** The claims of the session's token, verified by `verifier` like a bearer token's. */
  readonly claims: Claims;
  /** `Set-Cookie` values to send with the answer (a refreshed or renewed session); often none. */
  readonly cookies: readonly string[];
  /** The current access token, to call APIs as the user. Handle it like a password. */
  readonly accessToken: string;
  /** The current ID token, when the sign-in asked for `openid` (always). */
  readonly idToken: string | undefined;
}

/** Per sign-in options of {@link CognitoSession.signIn}: Cognito's `/oauth2/authorize` parameters. */
export interface SignInOptions {
  /** Where to go after sign-in: a path (or URL) on the app's origin under `returnToPaths`. Default `/`. */
  returnTo?: string;
  /** Skip the chooser: the name of a federated identity provider (`identity_provider`). */
  identityProvider?: string;
  /** Skip the chooser by the provider's identifier (`idp_identifier`). */
  idpIdentifier?: string;
  /** Scopes for this sign-in (default: the session's `scopes`); `openid` is required. */
  scopes?: readonly string[];
  /** Managed-login language (`lang`). */
  lang?: string;
  /** `prompt` (managed login only): `login`, `none`, `consent`, `select_account`. */
  prompt?: string;
  /** Pre-fill the user name (`login_hint`). */
  loginHint?: string;
  /** Bind the access token to a resource (RFC 8707 `resource`). */
  resource?: string;
  /** Ask for an authentication level (`acr_values`, step-up). */
  acrValues?: string;
  /** Re-authenticate when the last sign-in is older than this many seconds (`max_age`). */
  maxAge?: number;
}

const SIGN_IN_KEYS = optionKeys<SignInOptions>('signIn options', {
  returnTo: true,
  identityProvider: true,
  idpIdentifier: true,
  scopes: true,
  lang: true,
  prompt: true,
  loginHint: true,
  resource: true,
  acrValues: true,
  maxAge: true,
});

/** What the session cookie holds, sealed. Short keys: it travels with every request. */
interface SessionState {
  /** Session id: random, new at every sign-in. */
  sid: string;
  /** Generation: one more after each refresh. */
  g: number;
  at: string;
  it?: string;
  rt: string;
  /** Earliest `exp` of the tokens, and the renewal time (epoch seconds). */
  exp: number;
  renew: number;
  /** Created (absolute lifetime) and last seen (idle lifetime), epoch seconds. */
  c: number;
  s: number;
  /** `origin_jti` values of verified tokens of this session, oldest first. */
  oj: string[];
}

/** What the session cookie holds, sealed, when sessions are kept in a store: which session, whose. */
interface SessionRef {
  sid: string;
  /** The user's `sub`: the store's keys are per user. */
  u: string;
}

/** What the pre-sign-in cookie holds, sealed; its name carries the start of `state`. */
interface SignInState {
  st: string;
  cv: string;
  n: string;
  r: string;
  t: number;
}

interface CacheEntry {
  /** The last `Cookie` header these chunks came in: the same header again skips parsing. */
  header: string | undefined;
  readonly chunks: readonly string[];
  readonly state: SessionState | SessionRef;
  /** Hit since it was last passed over for eviction (see `evictOne`). */
  used: boolean;
  /**
   * Cookie mode: the answer of the last read of this cookie that only checked (nothing refreshed,
   * nothing to send back), served again while `quietUntil` (epoch s) is ahead: the earliest of the
   * session's ends, its refresh time and its next touch, when a read has more to do than check.
   */
  answer: SessionRead<unknown> | undefined;
  quietUntil: number;
}

/**
 * Characters of the first chunk that key the read cache: its version byte and 96-bit random IV
 * (unique per seal), 18 bytes in 24 characters; short, as a hit hashes them. A hit still compares
 * every chunk, or the whole header, so a shared start only misses.
 */
const CACHE_KEY_LENGTH = 24;

function cacheKey(firstChunk: string): string {
  return firstChunk.slice(0, CACHE_KEY_LENGTH);
}

/**
 * A number from 8 characters of a sealed value's IV (base64url, after the version byte), so the
 * set of cookies read once holds no piece of a 5 KB header: a slice of a string keeps the whole
 * string alive. Each character maps into 0..77 (`-` is the alphabet's lowest code), so 78⁸ < 2⁵³.
 */
function ivFingerprint(firstChunk: string): number {
  let fingerprint = 0;
  for (let i = 2; i < 10; i++) fingerprint = fingerprint * 78 + (firstChunk.charCodeAt(i) - 45);
  return fingerprint;
}

/** Characters of `state` in the pre-sign-in cookie's name: two tabs signing in get two cookies. */
const STATE_IN_NAME = 16;
/** Pre-sign-in cookies kept at once; more (abandoned tabs) are cleared at the next sign-in. */
const MAX_SIGN_IN_COOKIES = 4;
/** Most `origin_jti` values a session remembers (rotation may change it at each refresh). */
const MAX_ORIGIN_JTIS = 8;
/** Sessions remembered per process: refreshed (for requests that still carry the old cookie), ended, states used. */
const MAX_REMEMBERED = 10_000;
const NO_STORE = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } as const;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const NO_COOKIES: readonly string[] = Object.freeze([]);

function remember<Key, Value>(map: Map<Key, Value>, key: Key, value: Value): void {
  map.delete(key);
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value as Key);
  map.set(key, value);
}

function randomText(bytes: number): string {
  return base64urlText(randomBytes(bytes));
}

function queryOf(url: string): URLSearchParams {
  const at = url.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
}

/** Compare two strings in time that depends on their length only. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Browser sign-in with Cognito's managed login, and the session that keeps it: the
 * authorization-code flow with PKCE (S256), `state` and `nonce`; tokens kept in an AES-256-GCM
 * sealed, HttpOnly cookie; refreshed before they expire; signed out at Cognito and across the
 * fleet. Framework-free: the Express, Fastify and Hono doors (`cognitoSignIn`) mount its routes
 * and guard the app with it.
 *
 * ```ts
 * import { CognitoSession } from 'cognito-jwt/session';
 *
 * const session = new CognitoSession({
 *   domain: 'myapp.auth.eu-west-1.amazoncognito.com',
 *   clientId: 'app-client-id',
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   appOrigin: 'https://app.example.com',
 *   secrets: [process.env.SESSION_SECRET!],
 * });
 * const { claims, cookies } = await session.read({ method: 'GET', url: '/', header: (name) => req.headers[name] });
 * ```
 */
export class CognitoSession {
  readonly #config: SessionConfig;
  readonly #client: TokenEndpointClient;
  readonly #domainOrigin: string;
  readonly #sessionSealer: Sealer;
  readonly #signInSealer: Sealer;
  /** Recent reads by cookie value (see {@link cacheKey}), about the least recently used first. */
  readonly #cache = new Map<string, CacheEntry>();
  /** Fingerprints of cookies read once and not cached (see {@link CognitoSession.#admit}), oldest first. */
  readonly #readOnce = new Set<number>();
  /** `name.0=`: where the first chunk's value starts in a `Cookie` header. */
  readonly #firstChunkName: string;
  /** sid → the refresh under way. */
  readonly #refreshing = new Map<string, Promise<SessionState>>();
  /** sid → the newest state this process made (requests with an older cookie use it). */
  readonly #latest = new Map<string, SessionState>();
  /** sid → when its end can be forgotten (epoch s): signed out, or refresh token rejected. */
  readonly #ended = new Map<string, number>();
  /** state → when it can be forgotten: a state is accepted once. */
  readonly #usedStates = new Map<string, number>();

  constructor(options: SessionOptions) {
    this.#config = resolveSessionConfig(options);
    this.#client = new TokenEndpointClient({
      domain: options.domain,
      clientId: options.clientId,
      ...(options.clientSecret === undefined ? {} : { clientSecret: options.clientSecret }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.#domainOrigin = new URL(this.#client.tokenEndpoint).origin;
    this.#firstChunkName = `${this.#config.sessionCookie}.0=`;
    this.#sessionSealer = new Sealer(this.#config.secrets, 'session cookie');
    this.#signInSealer = new Sealer(this.#config.secrets, 'pre-sign-in cookie');
  }

  /** The routes this session answers: sign-in, callback, sign-out. */
  get paths(): { readonly signIn: string; readonly callback: string; readonly signOut: string } {
    return this.#config.paths;
  }

  /** The verifier session reads use; adapters use it for bearer tokens too. */
  get verifier(): SessionVerifier {
    return this.#config.verifier;
  }

  /** The `redirect_uri` sent to Cognito: one of the app client's callback URLs. */
  get redirectUri(): string {
    return `${this.#config.appOrigin}${this.#config.paths.callback}`;
  }

  /** The app's origin (the same-origin check compares `Origin` with it). */
  get appOrigin(): string {
    return this.#config.appOrigin;
  }

  /**
   * Start a sign-in: a 303 to the pool's `/oauth2/authorize` with a fresh PKCE verifier, `state`
   * and `nonce`, which go into a short-lived sealed pre-sign-in cookie named after the state (two
   * tabs can sign in at once). A `returnTo` outside the app refuses with `ERR_REDIRECT_INVALID`.
   */
  async signIn(request: SessionRequest, options: SignInOptions = {}): Promise<SessionAnswer> {
    checkOptions(SIGN_IN_KEYS, options);
    const returnTo = this.checkReturnTo(options.returnTo ?? '/');
    const scopes = options.scopes === undefined ? this.#config.scopes : [...options.scopes];
    if (!scopes.includes('openid')) throw new ConfigError("scopes must include 'openid'");
    const state = randomText(32);
    const codeVerifier = randomText(32);
    const nonce = randomText(32);
    const challenge = base64urlText(await sha256(new TextEncoder().encode(codeVerifier)));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: this.#client.clientId,
      redirect_uri: this.redirectUri,
      scope: scopes.join(' '),
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const extra: [keyof SignInOptions, string][] = [
      ['identityProvider', 'identity_provider'],
      ['idpIdentifier', 'idp_identifier'],
      ['lang', 'lang'],
      ['prompt', 'prompt'],
      ['loginHint', 'login_hint'],
      ['resource', 'resource'],
      ['acrValues', 'acr_values'],
    ];
    for (const [option, parameter] of extra) {
      const value = options[option];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length === 0) {
        throw new ConfigError(`${option} must be a non-empty string, got ${describeValue(value)}`);
      }
      query.set(parameter, value);
    }
    if (options.maxAge !== undefined) {
      if (!Number.isInteger(options.maxAge) || options.maxAge < 0) {
        throw new ConfigError(
          `maxAge must be a whole number of seconds, got ${describeValue(options.maxAge)}`,
        );
      }
      query.set('max_age', String(options.maxAge));
    }
    const now = this.#now();
    const name = this.#signInCookie(state);
    const sealed = await this.#signInSealer.seal(
      JSON.stringify({ st: state, cv: codeVerifier, n: nonce, r: returnTo, t: now } satisfies SignInState),
      name,
    );
    const cookies: string[] = [];
    const others = [
      ...(readCookies(request.header('cookie'), this.#config.signInCookiePrefix)?.keys() ?? []),
    ];
    if (others.length >= MAX_SIGN_IN_COOKIES)
      for (const other of others) cookies.push(clearCookie(other, this.#attributes()));
    cookies.push(setCookie(name, sealed, this.#config.signInLifetimeSeconds, this.#attributes()));
    return {
      status: 303,
      headers: { location: `${this.#domainOrigin}/oauth2/authorize?${query}`, ...NO_STORE },
      cookies,
    };
  }

  /**
   * The callback: checks `state` against its pre-sign-in cookie (once), exchanges the code with
   * the PKCE verifier, verifies the ID token (and its `nonce`) and the session token, and sets a
   * new session cookie. Answers a 303 to the return-to path with `Cache-Control: no-store` and
   * `Referrer-Policy: no-referrer`; refuses with a {@link SessionError} otherwise.
   */
  async callback(request: SessionRequest): Promise<SessionAnswer> {
    const query = queryOf(request.url);
    const state = query.get('state') ?? '';
    const jar = readCookies(request.header('cookie'), this.#config.signInCookiePrefix);
    const name = state.length >= STATE_IN_NAME ? this.#signInCookie(state) : undefined;
    const clear = name === undefined ? [] : [clearCookie(name, this.#attributes())];
    const refuse = (message: string) => new SessionError('ERR_SIGN_IN_STATE_INVALID', message, clear);
    const error = query.get('error');
    if (error !== null) {
      throw new SessionError(
        'ERR_SIGN_IN_FAILED',
        `the sign-in answered error ${describeValue(error)}`,
        clear,
      );
    }
    if (name === undefined || !/^[A-Za-z0-9_-]+$/.test(state))
      throw refuse('the callback carries no valid state');
    const values = jar?.get(name);
    if (values === undefined)
      throw refuse('no pre-sign-in cookie for this state (another browser, expired, or used)');
    if (values.length !== 1) throw refuse('the pre-sign-in cookie is sent more than once');
    const opened = await this.#signInSealer.open(values[0] as string, name);
    const saved = opened === undefined ? undefined : (JSON.parse(opened) as SignInState);
    if (saved === undefined || !sameText(saved.st, state))
      throw refuse('the pre-sign-in cookie does not match the state');
    const now = this.#now();
    if (now - saved.t > this.#config.signInLifetimeSeconds || saved.t > now + 60)
      throw refuse('the sign-in took too long');
    this.#forget(this.#usedStates, now);
    if (this.#usedStates.has(state)) throw refuse('this state was used already');
    remember(this.#usedStates, state, saved.t + this.#config.signInLifetimeSeconds);
    const code = query.get('code');
    if (code === null || code.length === 0) throw refuse('the callback carries no code');

    let tokens: Awaited<ReturnType<TokenEndpointClient['exchangeCode']>>;
    try {
      tokens = await this.#client.exchangeCode({
        code,
        redirectUri: this.redirectUri,
        codeVerifier: saved.cv,
      });
    } catch (cause) {
      if (cause instanceof CognitoJwtError)
        throw new SessionError(cause.code, cause.message, clear, { cause });
      throw cause;
    }
    if (tokens.idToken === undefined || tokens.refreshToken === undefined) {
      throw new SessionError(
        'ERR_SIGN_IN_FAILED',
        'the token endpoint returned no ID token or no refresh token',
        clear,
      );
    }
    const verified = await this.#verifyTokens(tokens.accessToken, tokens.idToken, clear);
    if (!sameText(String(verified.id.nonce ?? ''), saved.n)) {
      throw new SessionError(
        'ERR_SIGN_IN_NONCE_MISMATCH',
        'the ID token does not carry the nonce this sign-in sent',
        clear,
      );
    }
    const state0: SessionState = {
      sid: randomText(18),
      g: 0,
      at: tokens.accessToken,
      it: tokens.idToken,
      rt: tokens.refreshToken,
      ...this.#expiry(verified.claims),
      c: now,
      s: now,
      oj: verified.originJtis,
    };
    const store = this.#config.store;
    let written: string[];
    if (store === undefined) written = await this.#write(state0, request);
    else {
      const sub = verified.id.sub;
      if (typeof sub !== 'string' || sub.length === 0)
        throw new SessionError('ERR_SIGN_IN_FAILED', 'the ID token carries no sub', clear);
      try {
        await store.create(sub, state0.sid, this.#stored(state0), now, this.#endsAt(state0));
      } catch (cause) {
        throw this.#storeError(cause);
      }
      written = await this.#writeRef({ sid: state0.sid, u: sub }, request);
    }
    const cookies = [...clear, ...written];
    return { status: 303, headers: { location: saved.r, ...NO_STORE }, cookies };
  }

  /**
   * Read the session of a request: its verified claims (the same checks and refusals as a bearer
   * token, and the revocation list), refreshing the tokens first when they are near expiry (one
   * refresh per session per process). Unsafe methods need a same-origin request (`Origin` or
   * `Sec-Fetch-Site`). Refuses with a {@link SessionError} or the verifier's error.
   */
  read<Claims = CognitoClaims>(request: SessionRequest): Promise<SessionRead<Claims>> {
    // Not async itself: a repeat read answers without the state of the long read below.
    try {
      const header = request.header('cookie');
      const entry = this.#cachedByHeader(header);
      const answer = entry?.answer === undefined ? undefined : this.#repeat(entry, request);
      if (answer !== undefined) return Promise.resolve(answer as SessionRead<Claims>);
      return this.#read<Claims>(request, header, entry);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A read the whole way: the cookie parsed and opened (or found in the cache), then every step. */
  async #read<Claims>(
    request: SessionRequest,
    header: string | undefined,
    cached: CacheEntry | undefined,
  ): Promise<SessionRead<Claims>> {
    let entry = cached;
    const unsafe = !SAFE_METHODS.has(request.method.toUpperCase());
    if (entry !== undefined) {
      if (unsafe) this.checkSameOrigin(request);
    } else {
      const chunks = this.#chunksOf(request);
      if (chunks === undefined)
        throw new SessionError('ERR_SESSION_MISSING', 'the request carries no session cookie');
      if (unsafe) this.checkSameOrigin(request);
      const key = cacheKey(chunks[0] as string);
      const cached = this.#cache.get(key);
      if (
        cached !== undefined &&
        cached.chunks.length === chunks.length &&
        cached.chunks.every((value, i) => value === chunks[i])
      ) {
        entry = cached;
        cached.used = true;
        cached.header = header; // the same session among other cookies: the next read takes the short way
      } else {
        const opened = await this.#open(chunks, request);
        entry = { header, chunks, state: opened, used: false, answer: undefined, quietUntil: 0 };
        if (this.#config.readCacheSize > 0 && this.#admit(chunks[0] as string)) {
          this.#cache.set(key, entry);
          if (this.#cache.size > this.#config.readCacheSize) evictOne(this.#cache);
        }
      }
    }
    if (this.#config.store !== undefined) return this.#readStored<Claims>(entry.state as SessionRef, request);
    const read = entry.state as SessionState;
    let state = read;
    const now = this.#now();
    if (this.#ended.size > 0 && this.#ended.has(state.sid)) {
      throw new SessionError('ERR_SESSION_ENDED', 'the session was signed out', this.#clearSession(request));
    }
    if (
      now >= state.c + this.#config.absoluteLifetimeSeconds ||
      now >= state.s + this.#config.idleLifetimeSeconds
    ) {
      throw new SessionError(
        'ERR_SESSION_EXPIRED',
        'the session passed its absolute or idle lifetime',
        this.#clearSession(request),
      );
    }
    let cookies: readonly string[] = NO_COOKIES;
    const latest = this.#latest.size === 0 ? undefined : this.#latest.get(state.sid);
    if (latest !== undefined && latest.g > state.g) {
      state = latest; // another request refreshed it; this one still carried the old cookie
      cookies = await this.#write({ ...state, s: now }, request);
    }
    if (now >= state.renew) {
      state = await this.#refresh(state, request);
      cookies = await this.#write(state, request);
    } else if (cookies.length === 0 && now - state.s >= this.#touchInterval()) {
      cookies = await this.#write({ ...state, s: now }, request);
    }
    const token = this.#config.sessionToken === 'id' ? (state.it as string) : state.at;
    const claims = (await this.#config.verifier.verify(token)) as Claims;
    this.#checkRevocationList(claims, request);
    const answer: SessionRead<Claims> = { claims, cookies, accessToken: state.at, idToken: state.it };
    if (state === read && cookies.length === 0) {
      // Nothing but checks was due: the next read of this very cookie repeats only the checks.
      const exp = (claims as { exp?: unknown }).exp;
      entry.answer = Object.freeze(answer);
      entry.quietUntil = Math.min(
        this.#endsAt(state),
        state.renew,
        state.s + this.#touchInterval(),
        typeof exp === 'number' ? exp : 0,
      );
    }
    return answer;
  }

  /**
   * A repeat read of a cookie read before, while only checks are due; `undefined` sends it the full
   * way, which decides as ever. Decrypting, parsing, the signature and the claim rules are known
   * for this exact value; what can change is checked again: the session's lifetimes, refresh and
   * touch times and its token's expiry against the clock, a sign-out or a refresh in this process,
   * the same-origin rule, the verifier's revocation check and the revocation list. (A key removed
   * from the JWKS is noticed at the next touch, at most 5 minutes on: the touched cookie is new.)
   */
  #repeat(entry: CacheEntry, request: SessionRequest): SessionRead<unknown> | undefined {
    const verifier = this.#config.verifier;
    if (verifier.checkRevoked === undefined || this.#now() >= entry.quietUntil) return undefined;
    const state = entry.state as SessionState;
    if (this.#ended.size > 0 && this.#ended.has(state.sid)) return undefined;
    if (this.#latest.size > 0 && (this.#latest.get(state.sid)?.g ?? -1) > state.g) return undefined;
    const method = request.method;
    if (!SAFE_METHODS.has(method) && !SAFE_METHODS.has(method.toUpperCase())) this.checkSameOrigin(request);
    const answer = entry.answer as SessionRead<unknown>;
    verifier.checkRevoked(answer.claims as CognitoClaims);
    this.#checkRevocationList(answer.claims, request);
    return answer;
  }

  /** Refuse a session whose token the revocation list holds (`ERR_TOKEN_REVOKED`). */
  #checkRevocationList(claims: unknown, request: SessionRequest): void {
    if (this.#config.revocationList?.isRevoked(claims as CognitoClaims)) {
      throw new SessionError(
        'ERR_TOKEN_REVOKED',
        'the session was revoked (the revocation list holds it)',
        this.#clearSession(request),
      );
    }
  }

  /**
   * Sign out (POST, same-origin only): revokes the refresh token at `/oauth2/revoke`, adds the
   * session's verified `origin_jti` values to the revocation list, clears the cookies and answers
   * a 303 to Cognito's `/logout` with `client_id` and `logout_uri`. A failure to revoke does not
   * stop the sign-out: it is returned in `errors` (log it).
   */
  async signOut(request: SessionRequest): Promise<SessionAnswer & { readonly errors: readonly unknown[] }> {
    if (request.method.toUpperCase() !== 'POST') {
      throw new SessionError('ERR_CROSS_SITE_REQUEST', 'sign-out is a POST (a GET sign-out is logout CSRF)');
    }
    this.checkSameOrigin(request);
    const errors: unknown[] = [];
    let state: SessionState | undefined;
    const chunks = this.#chunksOf(request);
    if (chunks !== undefined) {
      // Its reads are not repeated from the cache (other cookies of the session meet `#ended`).
      this.#cache.delete(cacheKey(chunks[0] as string));
      try {
        state = await this.#open(chunks, request);
      } catch (error) {
        errors.push(error);
      }
    }
    const store = this.#config.store;
    if (state !== undefined && store !== undefined) {
      // The cookie names the session; its tokens are in the store, which forgets them now.
      const ref = state as unknown as SessionRef;
      state = undefined;
      try {
        const stored = await store.get(ref.u, ref.sid);
        if (stored !== undefined) state = this.#fromStored(stored);
        await store.end(ref.u, ref.sid);
      } catch (error) {
        errors.push(error);
      }
    }
    if (state !== undefined) {
      const latest = this.#latest.get(state.sid);
      if (latest !== undefined && latest.g > state.g) state = latest;
      const now = this.#now();
      remember(this.#ended, state.sid, now + this.#config.absoluteLifetimeSeconds);
      this.#latest.delete(state.sid);
      try {
        await this.#client.revoke(state.rt);
      } catch (error) {
        errors.push(error);
      }
      const list = this.#config.revocationList;
      if (list !== undefined) {
        // The session token was verified before it was sealed into the state: its pool and sub name
        // the owner, so the list can fold this user's sessions when a pool fills up.
        let owner: ReturnType<typeof sessionOwnerOf> = {};
        try {
          owner = sessionOwnerOf(decodeUnverified(state.at).payload);
        } catch {
          // Not a JWT (it was one when sealed): revoke by origin_jti alone.
        }
        for (const originJti of state.oj) {
          try {
            await list.revokeSession(originJti, owner);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    }
    const logout = new URLSearchParams({
      client_id: this.#client.clientId,
      logout_uri: this.#config.logoutUri,
    });
    return {
      status: 303,
      headers: { location: `${this.#domainOrigin}/logout?${logout}`, ...NO_STORE },
      cookies: this.#clearSession(request),
      errors,
    };
  }

  /**
   * The return-to target as a path on the app, or `ERR_REDIRECT_INVALID`: another origin, a
   * scheme-relative `//host`, a backslash, a control character, or a path outside `returnToPaths`.
   */
  checkReturnTo(returnTo: string): string {
    const refuse = () =>
      new SessionError(
        'ERR_REDIRECT_INVALID',
        `the return-to address ${describeValue(returnTo)} is not on this app`,
      );
    if (typeof returnTo !== 'string' || returnTo.length === 0 || returnTo.length > 2048) throw refuse();
    if (/[\u0000-\u001f\u007f\\]/.test(returnTo)) throw refuse();
    let url: URL;
    try {
      url = new URL(returnTo, `${this.#config.appOrigin}/`);
    } catch {
      throw refuse();
    }
    if (url.origin !== this.#config.appOrigin) throw refuse();
    if (!returnTo.startsWith('/') && !returnTo.startsWith(`${this.#config.appOrigin}/`)) throw refuse();
    if (returnTo.startsWith('//')) throw refuse();
    const path = url.pathname;
    if (
      !this.#config.returnToPaths.some(
        (prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
      )
    ) {
      throw refuse();
    }
    return `${url.pathname}${url.search}`;
  }

  /**
   * Refuse a request from another site with `ERR_CROSS_SITE_REQUEST`: `Origin`, when sent, must be
   * the app's origin, `Sec-Fetch-Site`, when sent, must be `same-origin`, and one of them must be sent.
   */
  checkSameOrigin(request: SessionRequest): void {
    const origin = request.header('origin');
    const site = request.header('sec-fetch-site');
    if (origin === undefined && site === undefined) {
      throw new SessionError(
        'ERR_CROSS_SITE_REQUEST',
        'an unsafe request authenticated by the session cookie carries neither Origin nor Sec-Fetch-Site',
      );
    }
    if (origin !== undefined && origin !== this.#config.appOrigin) {
      throw new SessionError(
        'ERR_CROSS_SITE_REQUEST',
        `the request comes from ${describeValue(origin)}, not from ${this.#config.appOrigin}`,
      );
    }
    if (site !== undefined && site !== 'same-origin') {
      throw new SessionError(
        'ERR_CROSS_SITE_REQUEST',
        `the request is ${describeValue(site)} (Sec-Fetch-Site), not same-origin`,
      );
    }
  }

  /** Whether the request carries a session cookie (valid or not). */
  hasSessionCookie(request: SessionRequest): boolean {
    return (readCookies(request.header('cookie'), `${this.#config.sessionCookie}.`)?.size ?? 0) > 0;
  }

  /**
   * The live sessions of a user (`sub`), from the session store: when each began, was last used
   * and will end. Needs `store`.
   *
   * ```ts
   * for (const { sid, lastSeenAt } of await session.listSessions(claims.sub)) console.log(sid, lastSeenAt);
   * ```
   */
  async listSessions(sub: string): Promise<StoredSessionSummary[]> {
    return this.#requireStore('listSessions').list(sub);
  }

  /**
   * End one session of a user (`sid` from {@link listSessions}), or all of them: every browser
   * holding one is refused at its next request, on every process. Their refresh tokens are
   * revoked at Cognito. Returns how many sessions ended. Needs `store`.
   *
   * ```ts
   * await session.endSessions(claims.sub); // "sign out everywhere"
   * ```
   */
  async endSessions(sub: string, sid?: string): Promise<number> {
    const store = this.#requireStore('endSessions');
    const ids = sid === undefined ? (await store.list(sub)).map((one) => one.sid) : [sid];
    let ended = 0;
    for (const id of ids) {
      const stored = await store.get(sub, id);
      if (await store.end(sub, id)) ended++;
      if (stored !== undefined) {
        remember(this.#ended, id, this.#now() + this.#config.absoluteLifetimeSeconds);
        await this.#client.revoke(this.#fromStored(stored).rt).catch(() => {});
      }
    }
    if (sid === undefined) ended += await store.endAll(sub);
    return ended;
  }

  #requireStore(method: string) {
    const store = this.#config.store;
    if (store === undefined)
      throw new ConfigError(`${method} needs sessions kept in a store (the store option)`);
    return store;
  }

  /** When a session ends unless used again: the earlier of its idle and absolute ends (epoch s). */
  #endsAt(state: SessionState): number {
    return Math.min(
      state.c + this.#config.absoluteLifetimeSeconds,
      state.s + this.#config.idleLifetimeSeconds,
    );
  }

  #stored(state: SessionState): StoredSession {
    return { state: JSON.stringify(state), generation: state.g, lastSeenAt: state.s };
  }

  #fromStored(stored: StoredSession): SessionState {
    const state = JSON.parse(stored.state) as SessionState;
    return { ...state, g: stored.generation, s: Math.max(state.s, stored.lastSeenAt) };
  }

  /** A store that cannot be reached keeps the cookie: the session may well live on once it is back. */
  #storeError(cause: unknown): unknown {
    if (cause instanceof SessionError || !(cause instanceof CognitoJwtError)) return cause;
    return new SessionError(cause.code, cause.message, [], { cause });
  }

  /** The store mode's cookie: a sealed reference, set once, for the absolute lifetime. */
  async #writeRef(ref: SessionRef, request: SessionRequest): Promise<string[]> {
    const name = this.#config.sessionCookie;
    const sealed = await this.#sessionSealer.seal(JSON.stringify(ref), name);
    const cookies = [
      setCookie(`${name}.0`, sealed, this.#config.absoluteLifetimeSeconds, this.#attributes()),
    ];
    const had = readCookies(request.header('cookie'), `${name}.`);
    for (let i = 1; i < this.#config.maxCookieChunks; i++) {
      if (had?.has(`${name}.${i}`)) cookies.push(clearCookie(`${name}.${i}`, this.#attributes()));
    }
    return cookies;
  }

  /** Store mode: the session is gone from the store (signed out, ended, or lost with Redis's data). */
  #storedSessionEnded(request: SessionRequest): SessionError {
    return new SessionError(
      'ERR_SESSION_ENDED',
      'the session was signed out or ended',
      this.#clearSession(request),
    );
  }

  /** A read in store mode: the session from the store, refreshed there; the cookie never changes. */
  async #readStored<Claims>(ref: SessionRef, request: SessionRequest): Promise<SessionRead<Claims>> {
    const store = this.#config.store!;
    if (this.#ended.size > 0 && this.#ended.has(ref.sid)) throw this.#storedSessionEnded(request);
    let state: SessionState;
    try {
      const stored = await store.get(ref.u, ref.sid);
      if (stored === undefined) throw this.#storedSessionEnded(request);
      state = this.#fromStored(stored);
      const now = this.#now();
      if (now >= this.#endsAt(state)) {
        await store.end(ref.u, ref.sid);
        throw new SessionError(
          'ERR_SESSION_EXPIRED',
          'the session passed its absolute or idle lifetime',
          this.#clearSession(request),
        );
      }
      if (now >= state.renew) state = await this.#refreshStored(state, ref, request);
      else if (now - state.s >= this.#touchInterval()) {
        state = { ...state, s: now };
        await store.touch(ref.u, ref.sid, now, this.#endsAt(state));
      }
    } catch (cause) {
      throw this.#storeError(cause);
    }
    const token = this.#config.sessionToken === 'id' ? (state.it as string) : state.at;
    let claims: Claims;
    try {
      claims = (await this.#config.verifier.verify(token)) as Claims;
    } catch (error) {
      // A verifier with its own revocation check (the service's) refuses a revoked user: end the session too.
      if (error instanceof CognitoJwtError && error.code === 'ERR_TOKEN_REVOKED')
        await store.end(ref.u, ref.sid).catch(() => {});
      throw error;
    }
    const list = this.#config.revocationList;
    if (list?.isRevoked(claims as CognitoClaims)) {
      // A revoked user's session ends in the store too: no process serves it again.
      await store.end(ref.u, ref.sid).catch(() => {});
      throw new SessionError(
        'ERR_TOKEN_REVOKED',
        'the session was revoked (the revocation list holds it)',
        this.#clearSession(request),
      );
    }
    return { claims, cookies: [], accessToken: state.at, idToken: state.it };
  }

  /** One refresh per session in this process, and across processes by the store's lock. */
  #refreshStored(state: SessionState, ref: SessionRef, request: SessionRequest): Promise<SessionState> {
    let running = this.#refreshing.get(state.sid);
    if (running === undefined) {
      running = this.#doRefreshStored(state, ref, request).finally(() => this.#refreshing.delete(state.sid));
      this.#refreshing.set(state.sid, running);
    }
    return running;
  }

  async #doRefreshStored(
    state: SessionState,
    ref: SessionRef,
    request: SessionRequest,
  ): Promise<SessionState> {
    const store = this.#config.store!;
    const lockMs = this.#config.refreshLockMs;
    const token = await store.lock(ref.u, ref.sid, lockMs);
    if (token === undefined) {
      // Another process refreshes this session: wait for its new generation.
      const deadline = Date.now() + lockMs;
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const stored = await store.get(ref.u, ref.sid);
        if (stored === undefined) throw this.#storedSessionEnded(request);
        if (stored.generation > state.g) return this.#fromStored(stored);
      }
      if (this.#now() < state.exp) return state; // its tokens still live; the next request refreshes
      throw new SessionError(
        'ERR_SESSION_STORE_UNAVAILABLE',
        'another process held the refresh lock of this session past its deadline',
        [],
      );
    }
    try {
      // Refreshed by another process between this read and the lock: use its tokens.
      const stored = await store.get(ref.u, ref.sid);
      if (stored === undefined) throw this.#storedSessionEnded(request);
      const current = this.#fromStored(stored);
      if (current.g > state.g) return current;
      let next: SessionState;
      try {
        next = await this.#doRefresh(current, request);
      } catch (error) {
        if (error instanceof SessionError && error.code === 'ERR_SESSION_ENDED')
          await store.end(ref.u, ref.sid).catch(() => {});
        throw error;
      }
      this.#latest.delete(state.sid); // the store holds the newest state; nothing to remember here
      const outcome = await store.replace(ref.u, ref.sid, current.g, this.#stored(next), this.#endsAt(next));
      if (outcome === 'ended') {
        // Signed out during the refresh: the new refresh token must not outlive the session.
        await this.#client.revoke(next.rt).catch(() => {});
        throw this.#storedSessionEnded(request);
      }
      return next;
    } finally {
      await store.unlock(ref.u, ref.sid, token).catch(() => {});
    }
  }

  /**
   * Whether a cookie just opened enters the read cache: on its second read. A cookie read once
   * (a client that sends it a single time, the last request before a refresh) would otherwise
   * hold some 10 KB of cache until evicted, and keeping it costs a new-cookie read a third of its
   * time in garbage collection. A session's second read pays one more decryption, then hits.
   * Only opened cookies come here, so the fingerprint is of a random IV: a collision merely
   * admits a cookie early.
   */
  #admit(firstChunk: string): boolean {
    const fingerprint = ivFingerprint(firstChunk);
    if (this.#readOnce.delete(fingerprint)) return true;
    this.#readOnce.add(fingerprint);
    if (this.#readOnce.size > this.#config.readCacheSize) {
      this.#readOnce.delete(this.#readOnce.values().next().value as number);
    }
    return false;
  }

  #now(): number {
    return Math.floor(this.#config.clock() / 1000);
  }

  #attributes() {
    return { domain: this.#config.cookieDomain, secure: this.#config.secure };
  }

  #signInCookie(state: string): string {
    return `${this.#config.signInCookiePrefix}${state.slice(0, STATE_IN_NAME)}`;
  }

  #touchInterval(): number {
    return Math.min(300, Math.floor(this.#config.idleLifetimeSeconds / 4));
  }

  #forget(map: Map<string, number>, now: number): void {
    for (const [key, until] of map) {
      if (until > now) break;
      map.delete(key);
    }
  }

  /**
   * The state of a `Cookie` header read before, compared whole: parsing is a function of the
   * header, so the same header gives the same chunks. Skips the cookie parser on repeat reads, a
   * large part of their cost (a Cognito-sized session is a 5-6 KB header).
   */
  #cachedByHeader(header: string | undefined): CacheEntry | undefined {
    if (header === undefined || this.#cache.size === 0) return undefined;
    const at = header.indexOf(this.#firstChunkName);
    if (at === -1) return undefined;
    const start = at + this.#firstChunkName.length;
    const cached = this.#cache.get(header.slice(start, start + CACHE_KEY_LENGTH));
    if (cached === undefined || cached.header !== header) return undefined;
    cached.used = true;
    return cached;
  }

  /** The values of the session's chunk cookies in order; `undefined` when there are none. */
  #chunksOf(request: SessionRequest): string[] | undefined {
    const prefix = `${this.#config.sessionCookie}.`;
    const jar = readCookies(request.header('cookie'), prefix);
    if (jar === undefined) {
      throw new SessionError(
        'ERR_SESSION_INVALID',
        'the Cookie header is too large to be a session',
        this.#clearSession(request),
      );
    }
    if (jar.size === 0) return undefined;
    const chunks: string[] = [];
    for (const [name, values] of jar) {
      const index = name.slice(prefix.length);
      if (!/^[0-9]$/.test(index) || Number(index) >= this.#config.maxCookieChunks) {
        throw new SessionError(
          'ERR_SESSION_INVALID',
          `unexpected session cookie ${describeValue(name)} (more chunks than the bound)`,
          this.#clearSession(request),
        );
      }
      if (values.length !== 1) {
        throw new SessionError(
          'ERR_SESSION_INVALID',
          `the session cookie ${name} is sent ${values.length} times`,
          this.#clearSession(request),
        );
      }
      chunks[Number(index)] = values[0] as string;
    }
    for (let i = 0; i < chunks.length; i++) {
      if (chunks[i] === undefined) {
        throw new SessionError(
          'ERR_SESSION_INVALID',
          `the session cookie chunk ${i} is missing`,
          this.#clearSession(request),
        );
      }
    }
    return chunks;
  }

  async #open(chunks: readonly string[], request: SessionRequest): Promise<SessionState> {
    const opened = await this.#sessionSealer.open(chunks.join(''), this.#config.sessionCookie);
    let state: SessionState | undefined;
    try {
      state = opened === undefined ? undefined : (JSON.parse(opened) as SessionState);
    } catch {
      state = undefined;
    }
    // A cookie of the other mode (tokens in the cookie, or a reference into the store) is no session here.
    const shaped =
      state !== undefined &&
      typeof state.sid === 'string' &&
      (this.#config.store === undefined
        ? typeof state.at === 'string' && typeof state.rt === 'string'
        : typeof (state as unknown as SessionRef).u === 'string' && state.at === undefined);
    if (!shaped) {
      throw new SessionError(
        'ERR_SESSION_INVALID',
        'the session cookie cannot be opened (tampered, truncated, mixed chunks, or sealed with a secret not configured)',
        this.#clearSession(request),
      );
    }
    return state as SessionState;
  }

  /** Set-Cookie values that remove every session chunk the request carries (or could). */
  #clearSession(request: SessionRequest): string[] {
    const prefix = `${this.#config.sessionCookie}.`;
    const names = new Set<string>();
    for (let i = 0; i < this.#config.maxCookieChunks; i++) names.add(`${prefix}${i}`);
    for (const name of readCookies(request.header('cookie'), prefix)?.keys() ?? []) {
      if (/^[\x21-\x7e]+$/.test(name) && !name.includes(';')) names.add(name);
    }
    return [...names].map((name) => clearCookie(name, this.#attributes()));
  }

  /** Seal `state` into chunk cookies (clearing chunks the request had beyond them). */
  async #write(state: SessionState, request: SessionRequest): Promise<string[]> {
    const name = this.#config.sessionCookie;
    const sealed = await this.#sessionSealer.seal(JSON.stringify(state), name);
    const pieces = chunk(sealed);
    if (pieces.length > this.#config.maxCookieChunks) {
      throw new SessionError(
        'ERR_SESSION_TOO_LARGE',
        `the session needs ${sealed.length} characters of cookie (${pieces.length} cookies of at most ${MAX_COOKIE_BYTES} bytes), ` +
          `more than maxCookieChunks (${this.#config.maxCookieChunks}) allows: reduce the tokens (fewer groups or custom claims), ` +
          "raise maxCookieChunks together with the proxies' header limits (nginx large_client_header_buffers), or keep sessions server-side",
        this.#clearSession(request),
      );
    }
    const now = this.#now();
    const maxAge =
      Math.min(state.c + this.#config.absoluteLifetimeSeconds, state.s + this.#config.idleLifetimeSeconds) -
      now;
    const cookies = pieces.map((piece, i) => setCookie(`${name}.${i}`, piece, maxAge, this.#attributes()));
    const had = readCookies(request.header('cookie'), `${name}.`);
    for (let i = pieces.length; i < this.#config.maxCookieChunks; i++) {
      if (had?.has(`${name}.${i}`)) cookies.push(clearCookie(`${name}.${i}`, this.#attributes()));
    }
    return cookies;
  }

  /** Expiry and renewal time from verified claims (`exp`, `iat`), in epoch seconds. */
  #expiry(claims: readonly { exp?: unknown; iat?: unknown }[]): { exp: number; renew: number } {
    let exp = Infinity;
    let lifetime = Infinity;
    for (const item of claims) {
      if (typeof item.exp !== 'number') continue;
      exp = Math.min(exp, item.exp);
      if (typeof item.iat === 'number') lifetime = Math.min(lifetime, item.exp - item.iat);
    }
    if (!Number.isFinite(exp)) exp = this.#now();
    const margin = Math.min(
      this.#config.refreshMarginSeconds,
      Number.isFinite(lifetime) ? Math.max(0, lifetime) / 2 : 0,
    );
    return { exp, renew: Math.floor(exp - margin) };
  }

  /** Verify what the token endpoint returned: the ID token and the session token. */
  async #verifyTokens(
    accessToken: string,
    idToken: string | undefined,
    cookies: readonly string[],
    previous: readonly string[] = [],
  ): Promise<{ id: Record<string, unknown>; claims: Record<string, unknown>[]; originJtis: string[] }> {
    const wrap = (cause: unknown) =>
      cause instanceof CognitoJwtError
        ? new SessionError(cause.code, cause.message, cookies, { cause })
        : cause;
    const claims: Record<string, unknown>[] = [];
    let id: Record<string, unknown> = {};
    try {
      if (idToken !== undefined) {
        id = (await this.#config.idTokenVerifier.verify(idToken)) as unknown as Record<string, unknown>;
        claims.push(id);
      }
      if (this.#config.sessionToken === 'access') {
        claims.push((await this.#config.verifier.verify(accessToken)) as unknown as Record<string, unknown>);
      } else if (this.#config.idTokenVerifier !== this.#config.verifier && idToken !== undefined) {
        claims.push((await this.#config.verifier.verify(idToken)) as unknown as Record<string, unknown>);
      }
    } catch (cause) {
      throw wrap(cause);
    }
    const originJtis = [...previous];
    for (const item of claims) {
      const value = item.origin_jti;
      if (typeof value === 'string' && value.length > 0 && !originJtis.includes(value))
        originJtis.push(value);
    }
    return { id, claims, originJtis: originJtis.slice(-MAX_ORIGIN_JTIS) };
  }

  /** One refresh per session per process; the others wait for it. */
  #refresh(state: SessionState, request: SessionRequest): Promise<SessionState> {
    let running = this.#refreshing.get(state.sid);
    if (running === undefined) {
      running = this.#doRefresh(state, request).finally(() => this.#refreshing.delete(state.sid));
      this.#refreshing.set(state.sid, running);
    }
    return running;
  }

  async #doRefresh(state: SessionState, request: SessionRequest): Promise<SessionState> {
    let tokens: Awaited<ReturnType<TokenEndpointClient['refresh']>>;
    try {
      tokens = await this.#client.refresh(state.rt);
    } catch (cause) {
      if (cause instanceof TokenEndpointError && cause.code === 'ERR_OAUTH_INVALID_GRANT') {
        remember(this.#ended, state.sid, this.#now() + this.#config.absoluteLifetimeSeconds);
        throw new SessionError(
          'ERR_SESSION_ENDED',
          `the refresh token was rejected (${cause.message}); sign in again`,
          this.#clearSession(request),
          { cause },
        );
      }
      throw cause;
    }
    const idToken = tokens.idToken ?? state.it;
    const verified = await this.#verifyTokens(
      tokens.accessToken,
      tokens.idToken,
      this.#clearSession(request),
      state.oj,
    );
    const now = this.#now();
    const next: SessionState = {
      ...state,
      g: state.g + 1,
      at: tokens.accessToken,
      ...(idToken === undefined ? {} : { it: idToken }),
      rt: tokens.refreshToken ?? state.rt,
      ...this.#expiry(verified.claims),
      s: now,
      oj: verified.originJtis,
    };
    remember(this.#latest, state.sid, next);
    return next;
  }
}

import { ConfigError, describeValue } from '../errors.ts';
import {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOptions,
  optionKeys,
  stringList,
} from '../options.ts';
import type { RevocationList } from '../revocation/list.ts';
import { isRevocationList } from '../revocation/shape.ts';
import type { CognitoClaims } from '../token/claims.ts';
import type { VerifierConfig } from '../verify/config.ts';
import { CognitoVerifier } from '../verify/verifier.ts';
import { isSessionStore, type SessionStore } from './store.ts';

/** Anything that verifies a token into claims; a `CognitoVerifier` is one. */
export interface SessionVerifier<Claims = CognitoClaims> {
  verify(token: string): Promise<Claims>;
  /**
   * Ask its revocation check again about claims `verify` returned (a `CognitoVerifier` runs its
   * `isRevoked` hook). With it, a repeat read of a cookie read before skips `verify`; without it,
   * every read calls `verify`.
   */
  checkRevoked?(claims: Claims): void;
}

/** The app's own sign-in routes, as paths on {@link SessionOptions.appOrigin}. */
export interface SessionPaths {
  /** Starts a sign-in (GET, `?return_to=/path`). Default `/auth/sign-in`. */
  signIn?: string;
  /** Where Cognito sends the browser back (GET): `appOrigin + callback` is the `redirect_uri`. Default `/auth/callback`. */
  callback?: string;
  /** Signs out (POST only, same-origin). Default `/auth/sign-out`. */
  signOut?: string;
}

/**
 * Options of a {@link CognitoSession}. Plain data apart from the verifiers, the revocation list,
 * `fetch` and `clock`; every key is checked when the session is created.
 */
export interface SessionOptions {
  /** The user pool domain that serves managed login: `myapp.auth.eu-west-1.amazoncognito.com` or a custom domain. */
  domain: string;
  /** The app client id. */
  clientId: string;
  /** The app client secret; leave it out for a public client. */
  clientSecret?: string;
  /**
   * What a session read accepts, exactly as for bearer tokens: a `CognitoVerifier` or its config
   * (`tokenUse` `'access'` or `'id'`). Group and scope rules, step-up rules and its `isRevoked`
   * hook all apply to session reads.
   */
  verifier: SessionVerifier | VerifierConfig;
  /**
   * Verifies the ID token at sign-in (with its `nonce`) and after each refresh. Default: built from
   * `verifier` when that is a config (same pool and client, `tokenUse: 'id'`, no group or scope
   * rules); required when `verifier` is an instance that checks access tokens.
   */
  idTokenVerifier?: SessionVerifier | VerifierConfig;
  /**
   * Which of the session's tokens a read verifies with `verifier`. Default: `'id'` when `verifier`
   * is a config with `tokenUse: 'id'`, else `'access'`.
   */
  sessionToken?: 'access' | 'id';
  /** The app's origin as browsers see it, `https://app.example.com` (no path). */
  appOrigin: string;
  /**
   * Secrets the cookies are sealed with: at least 32 characters each (`openssl rand -base64 32`).
   * The first seals, all open: put a new one first to rotate, drop the old one after the absolute lifetime.
   */
  secrets: string | readonly string[];
  /** The routes {@link CognitoSession} answers. */
  paths?: SessionPaths;
  /** Path prefixes a return-to URL may point at, on `appOrigin`. Default `['/']`. */
  returnToPaths?: readonly string[];
  /** Where the browser lands after Cognito's `/logout` (one of the app client's sign-out URLs). Default `appOrigin + '/'`. */
  logoutUri?: string;
  /** OAuth scopes to ask for; `openid` is required (the ID token carries the nonce). Default `['openid']`. */
  scopes?: readonly string[];
  /** Base name of the cookies. Default `session`; sent as `__Host-session.0`, `__Host-session.1`. */
  cookieName?: string;
  /** Share the session with subdomains: `Domain=` is set and the prefix becomes `__Secure-`. Default: none (`__Host-`). */
  cookieDomain?: string;
  /**
   * Most cookies one session may use, each at most 4 000 bytes. Default 2 (≤ 7 600 characters of
   * sealed session, below nginx's default 8 KB header line); at most 4. A session that does not
   * fit fails with `ERR_SESSION_TOO_LARGE`.
   */
  maxCookieChunks?: number;
  /** A session ends this long after sign-in, whatever its refresh token allows. Default 7 days. */
  absoluteLifetimeSeconds?: number;
  /** A session ends after this long without a request. Default 1 day. */
  idleLifetimeSeconds?: number;
  /** Lifetime of a pre-sign-in cookie (the time to sign in). Default 600 s. */
  signInLifetimeSeconds?: number;
  /** Tokens are refreshed this long before the earlier of their expiries (at most half their lifetime). Default 60 s. */
  refreshMarginSeconds?: number;
  /** Sign-out adds the session's `origin_jti` values here; reads check it too. */
  revocationList?: RevocationList;
  /**
   * Keep sessions server-side (`await openRedisSessionStore({ url })`): the cookie then holds only
   * a sealed session id and never changes; tokens stay in the store, refreshed once per session
   * across processes; sessions can be listed and ended per user. Default: none (tokens in the cookie).
   */
  store?: SessionStore;
  /**
   * Reads remembered by cookie value: a repeat read skips decryption, the signature and the claim
   * rules, and checks only what can change (times, refresh, sign-out, revocation). A cookie enters
   * at its second read; the least recently read is dropped first. Default 10 000; 0 turns it off.
   */
  readCacheSize?: number;
  /**
   * Development only: serve `http://localhost` (and nothing else) without `Secure` and without a
   * cookie prefix. Default `false`.
   */
  insecureLocalhost?: boolean;
  /** Deadline of one token endpoint request. Default 10 000 ms. */
  timeoutMs?: number;
  /** Replaces the global `fetch` (tests, proxies). */
  fetch?: typeof fetch;
  /** Epoch milliseconds; replaces `Date.now` (tests). */
  clock?: () => number;
}

export const SESSION_OPTION_KEYS = optionKeys<SessionOptions>(
  'CognitoSession options',
  {
    domain: true,
    clientId: true,
    clientSecret: true,
    verifier: true,
    idTokenVerifier: true,
    sessionToken: true,
    appOrigin: true,
    secrets: true,
    paths: true,
    returnToPaths: true,
    logoutUri: true,
    scopes: true,
    cookieName: true,
    cookieDomain: true,
    maxCookieChunks: true,
    absoluteLifetimeSeconds: true,
    idleLifetimeSeconds: true,
    signInLifetimeSeconds: true,
    refreshMarginSeconds: true,
    revocationList: true,
    store: true,
    readCacheSize: true,
    insecureLocalhost: true,
    timeoutMs: true,
    fetch: true,
    clock: true,
  },
  {
    userPoolId: 'it belongs in the verifier config: verifier: { userPoolId, clientId, tokenUse }',
    redirectUri: 'the redirect_uri is appOrigin + paths.callback',
    callbackUrl: 'the redirect_uri is appOrigin + paths.callback',
    secret: 'secrets takes one secret or a list: secrets: [process.env.SESSION_SECRET]',
  },
);
const PATH_KEYS = optionKeys<SessionPaths>('paths', { signIn: true, callback: true, signOut: true });

/** The checked form of {@link SessionOptions}. */
export interface SessionConfig {
  readonly appOrigin: string;
  readonly verifier: SessionVerifier;
  readonly idTokenVerifier: SessionVerifier;
  readonly sessionToken: 'access' | 'id';
  readonly secrets: readonly string[];
  readonly paths: Required<SessionPaths>;
  readonly returnToPaths: readonly string[];
  readonly logoutUri: string;
  readonly scopes: readonly string[];
  /** Full names: `__Host-session` (chunks add `.0`, `.1`) and the pre-sign-in prefix `__Host-session-signin.`. */
  readonly sessionCookie: string;
  readonly signInCookiePrefix: string;
  readonly cookieDomain: string | undefined;
  readonly secure: boolean;
  readonly maxCookieChunks: number;
  readonly absoluteLifetimeSeconds: number;
  readonly idleLifetimeSeconds: number;
  readonly signInLifetimeSeconds: number;
  readonly refreshMarginSeconds: number;
  readonly revocationList: RevocationList | undefined;
  readonly store: SessionStore | undefined;
  /** How long one process may hold a session's refresh lock (the token endpoint's deadline, and some). */
  readonly refreshLockMs: number;
  readonly readCacheSize: number;
  readonly clock: () => number;
}

const DAY = 86_400;

function isVerifier(value: unknown): value is SessionVerifier {
  return typeof (value as Partial<SessionVerifier> | null)?.verify === 'function';
}

function toVerifier(value: unknown, name: string): SessionVerifier {
  if (isVerifier(value)) return value;
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError(
      `${name} must be a CognitoVerifier or a verifier config, got ${describeValue(value)}`,
    );
  }
  return new CognitoVerifier(value as VerifierConfig) as unknown as SessionVerifier;
}

function checkPath(name: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    !/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(value) ||
    value.startsWith('//')
  ) {
    throw new ConfigError(`${name} must be a path such as /auth/callback, got ${describeValue(value)}`);
  }
  return value;
}

function checkOrigin(value: unknown, insecureLocalhost: boolean): string {
  if (typeof value !== 'string')
    throw new ConfigError(`appOrigin must be a string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `appOrigin must be an origin such as https://app.example.com, got ${describeValue(value)}`,
    );
  }
  if (url.origin !== value.replace(/\/$/, '')) {
    throw new ConfigError(
      `appOrigin must be an origin without a path, such as https://app.example.com, got ${describeValue(value)}`,
    );
  }
  if (url.protocol === 'https:') return url.origin;
  if (url.protocol === 'http:' && insecureLocalhost && url.hostname === 'localhost') return url.origin;
  throw new ConfigError(
    insecureLocalhost
      ? `insecureLocalhost allows http://localhost only, got ${describeValue(value)}`
      : `appOrigin must use https (session cookies are Secure); for development on http://localhost set insecureLocalhost: true`,
  );
}

/** Check every option of a session; every mistake is a {@link ConfigError} thrown now. */
export function resolveSessionConfig(options: SessionOptions): SessionConfig {
  if (options === undefined) throw new ConfigError('a CognitoSession needs its options');
  checkOptions(SESSION_OPTION_KEYS, options);
  const insecureLocalhost =
    options.insecureLocalhost === undefined
      ? false
      : checkBoolean('insecureLocalhost', options.insecureLocalhost);
  const appOrigin = checkOrigin(options.appOrigin, insecureLocalhost);
  if (options.verifier === undefined)
    throw new ConfigError('verifier is required: a CognitoVerifier or its config');
  const verifier = toVerifier(options.verifier, 'verifier');
  const config = isVerifier(options.verifier) ? undefined : (options.verifier as VerifierConfig);
  const sessionToken = options.sessionToken ?? (config?.tokenUse === 'id' ? 'id' : 'access');
  if (sessionToken !== 'access' && sessionToken !== 'id') {
    throw new ConfigError(`sessionToken must be 'access' or 'id', got ${describeValue(sessionToken)}`);
  }
  let idTokenVerifier: SessionVerifier;
  if (options.idTokenVerifier !== undefined)
    idTokenVerifier = toVerifier(options.idTokenVerifier, 'idTokenVerifier');
  else if (config !== undefined) {
    const { groups: _groups, scopes: _scopes, ...pool } = config;
    idTokenVerifier = new CognitoVerifier({ ...pool, tokenUse: 'id' }) as unknown as SessionVerifier;
  } else if (sessionToken === 'id') idTokenVerifier = verifier;
  else {
    throw new ConfigError(
      'idTokenVerifier is required when verifier is an instance that checks access tokens: the ID token (and its nonce) is verified at sign-in',
    );
  }
  const secrets = stringList('secrets', options.secrets);
  const paths = options.paths ?? {};
  checkOptions(PATH_KEYS, paths);
  const resolvedPaths = {
    signIn: checkPath('paths.signIn', paths.signIn ?? '/auth/sign-in'),
    callback: checkPath('paths.callback', paths.callback ?? '/auth/callback'),
    signOut: checkPath('paths.signOut', paths.signOut ?? '/auth/sign-out'),
  };
  const returnToPaths = (
    options.returnToPaths === undefined ? ['/'] : stringList('returnToPaths', options.returnToPaths)
  ).map((path, index) => checkPath(`returnToPaths[${index}]`, path));
  let logoutUri = `${appOrigin}/`;
  if (options.logoutUri !== undefined) {
    const url =
      typeof options.logoutUri === 'string' && URL.canParse(options.logoutUri)
        ? new URL(options.logoutUri)
        : undefined;
    if (url === undefined || url.origin !== appOrigin) {
      throw new ConfigError(
        `logoutUri must be a URL on appOrigin (${appOrigin}), got ${describeValue(options.logoutUri)}`,
      );
    }
    logoutUri = url.href;
  }
  const scopes = options.scopes === undefined ? ['openid'] : stringList('scopes', options.scopes);
  if (!scopes.includes('openid'))
    throw new ConfigError("scopes must include 'openid': the ID token carries the sign-in's nonce");
  if (scopes.some((scope) => /\s/.test(scope))) throw new ConfigError('scopes must not contain spaces');
  const baseName = options.cookieName ?? 'session';
  if (typeof baseName !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(baseName)) {
    throw new ConfigError(`cookieName must be 1-32 letters, digits, - or _, got ${describeValue(baseName)}`);
  }
  let cookieDomain: string | undefined;
  if (options.cookieDomain !== undefined) {
    if (typeof options.cookieDomain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(options.cookieDomain)) {
      throw new ConfigError(`cookieDomain must be a host name, got ${describeValue(options.cookieDomain)}`);
    }
    const host = new URL(appOrigin).hostname;
    const domain = options.cookieDomain.replace(/^\./, '').toLowerCase();
    if (host !== domain && !host.endsWith(`.${domain}`)) {
      throw new ConfigError(
        `cookieDomain ${describeValue(options.cookieDomain)} does not contain the app's host ${host}`,
      );
    }
    cookieDomain = domain;
  }
  const secure = !insecureLocalhost;
  const prefix = !secure ? '' : cookieDomain === undefined ? '__Host-' : '__Secure-';
  const seconds = (name: string, value: unknown, fallback: number, min: number, max = Infinity) =>
    value === undefined ? fallback : checkNumber(name, value, { min, max, integer: true });
  const absoluteLifetimeSeconds = seconds(
    'absoluteLifetimeSeconds',
    options.absoluteLifetimeSeconds,
    7 * DAY,
    60,
    400 * DAY,
  );
  const idleLifetimeSeconds = seconds(
    'idleLifetimeSeconds',
    options.idleLifetimeSeconds,
    DAY,
    60,
    absoluteLifetimeSeconds,
  );
  if (options.fetch !== undefined) checkFunction('fetch', options.fetch);
  if (options.clock !== undefined) checkFunction('clock', options.clock);
  if (options.revocationList !== undefined && !isRevocationList(options.revocationList)) {
    throw new ConfigError(
      `revocationList must be a RevocationList, got ${describeValue(options.revocationList)}`,
    );
  }
  if (options.store !== undefined && !isSessionStore(options.store)) {
    throw new ConfigError(
      `store must be a session store (await openRedisSessionStore({ url })), got ${describeValue(options.store)}`,
    );
  }
  // The token endpoint client checks timeoutMs itself.
  const timeoutMs = typeof options.timeoutMs === 'number' ? options.timeoutMs : 10_000;
  return {
    appOrigin,
    verifier,
    idTokenVerifier,
    sessionToken,
    secrets,
    paths: resolvedPaths,
    returnToPaths,
    logoutUri,
    scopes,
    sessionCookie: `${prefix}${baseName}`,
    signInCookiePrefix: `${prefix}${baseName}-signin.`,
    cookieDomain,
    secure,
    maxCookieChunks: seconds('maxCookieChunks', options.maxCookieChunks, 2, 1, 4),
    absoluteLifetimeSeconds,
    idleLifetimeSeconds,
    signInLifetimeSeconds: seconds('signInLifetimeSeconds', options.signInLifetimeSeconds, 600, 60, 3600),
    refreshMarginSeconds: seconds('refreshMarginSeconds', options.refreshMarginSeconds, 60, 0, 3600),
    revocationList: options.revocationList,
    store: options.store,
    refreshLockMs: timeoutMs + 5_000,
    readCacheSize: seconds('readCacheSize', options.readCacheSize, 10_000, 0, 1_000_000),
    clock: options.clock ?? Date.now,
  };
}

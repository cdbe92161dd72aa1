/**
 * The service's configuration: one JSON file, checked in full before anything listens (unknown keys
 * are refused with the closest known name), with environment variables for the common settings.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  type ProtectedResource,
  type ProtectedResourceOptions,
  protectedResource,
} from '../adapters/protected-resource.ts';
import { AlbVerifier, type AlbVerifierConfig } from '../alb/verifier.ts';
import type { RoleMap } from '../authz/roles.ts';
import { ConfigError } from '../errors.ts';
import type { JwksCacheOptions } from '../keys/jwks-cache.ts';
import {
  checkBoolean,
  checkNumber,
  checkOptions,
  closestName,
  type OptionKeys,
  optionKeys,
  typeName,
} from '../options.ts';
import type { RevocationListOptions } from '../revocation/list.ts';
import type { SessionOptions } from '../session/config.ts';
import { type RedisSessionStoreOptions, resolveRedisSessionStore } from '../session/redis.ts';
import { CognitoSession } from '../session/session.ts';
import { duplicateMember } from '../token/json.ts';
import { resolveConfig, VERIFIER_CONFIG_KEYS, type VerifierConfig } from '../verify/config.ts';
import { type ClaimHeaderMap, checkClaimHeaders } from './identity-headers.ts';
import { compileRoutes, type Route, type RouteConfig } from './routes.ts';

/** Log levels, most to least verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Key-cache tuning a config file may set (the transport and clock are not configuration). */
export type ServiceKeyOptions = Omit<JwksCacheOptions, 'fetch' | 'clock' | 'snapshotStore'>;

/**
 * The revocation list: the options of `cognito-jwt/revocation`'s `RevocationList` as JSON
 * (`{ "redis": { "url": … }, "onUnavailable": "reject" }`, or `{ "store": "memory" }`).
 */
export type RevocationConfig = RevocationListOptions;

/**
 * The config file, as JSON.
 *
 * ```json
 * {
 *   "listen": { "host": "127.0.0.1", "port": 9180 },
 *   "pools": [{ "userPoolId": "eu-west-1_AbC123", "clientId": ["app"], "tokenUse": "access" }],
 *   "routes": [
 *     { "path": "/health", "methods": ["GET"], "require": "anonymous" },
 *     { "path": "/admin/**", "require": { "groups": ["admins"] } },
 *     { "path": "/**", "require": "authenticated" }
 *   ]
 * }
 * ```
 */
export interface ServiceConfig {
  /**
   * Where to listen (default `127.0.0.1:9180`) and the limits a slow or greedy client meets there:
   * `headersTimeoutMs` (default 10 000) to send a request's headers, `requestTimeoutMs` (default
   * 30 000) to send the whole request, `maxConnections` (default 4096) open connections per worker,
   * beyond which a new connection is closed at once.
   */
  listen?: ListenConfig;
  /**
   * A second listener for `/healthz`, `/readyz` and `/metrics` (`{ "listen": { "port": 9181 } }`,
   * host default `127.0.0.1`); with it the auth port answers only auth requests.
   */
  admin?: { listen: { host?: string; port: number } };
  /** Worker processes (`node:cluster`); default the number of cores. 1 runs in this process. */
  workers?: number;
  /** The pools and clients whose tokens are accepted: verifier configs (`jwks` paths are relative to the file). */
  pools: VerifierConfig[];
  /** Where the token is: always `Authorization: Bearer`; `cookie` also reads it from this cookie. */
  token?: { cookie?: string };
  /**
   * ALB mode: the requests come from behind an Application Load Balancer that signs users in, so
   * the token is in its `x-amzn-oidc-*` headers, not `Authorization`. `x-amzn-oidc-data` is
   * verified with this config (`albArn`, `issuer`, `clientId`, as for `AlbVerifier`), the pools
   * verify `x-amzn-oidc-accesstoken`, which must name the same `sub` and client.
   */
  alb?: AlbVerifierConfig;
  /** Route rules, first match wins; default `[{ "path": "/**", "require": "authenticated" }]`. */
  routes?: RouteConfig[];
  /** Role name → groups, for `require: { roles }`. */
  roles?: RoleMap;
  /** Whether paths differ by case, as for the upstream's router. Default `true`. */
  caseSensitivePaths?: boolean;
  /** Also send every verified claim as base64url JSON in `X-Auth-Request-Claims`. Default `false`. */
  claimsHeader?: boolean;
  /**
   * More identity headers: header name (`X-Auth-Request-…`) → claim name, custom claims included
   * (`{ "X-Auth-Request-Tenant": "custom:tenant" }`). Always sent, empty when the claim is absent.
   */
  identityHeaders?: Record<string, string>;
  /** `realm` of the `WWW-Authenticate` challenge. */
  realm?: string;
  /** JWKS cache tuning (timeouts, max age, stale-if-error, offline). */
  keys?: ServiceKeyOptions;
  /** The verified-token cache: `false` turns it off; default 10 000 tokens per worker. */
  tokenCache?: boolean | { maxEntries?: number };
  /** Largest token accepted, in characters. Default 16 KiB. */
  maxTokenLength?: number;
  /** The revocation list, checked on every allowed token. */
  revocation?: RevocationConfig;
  /** The prefix Envoy's `ext_authz` `path_prefix` is set to. Default `/envoy`. */
  envoyPathPrefix?: string;
  /**
   * `level`: the least severe line written (default `info`). `decisions`: the level of the lines
   * for refusals (default `info`; 5xx answers are always `warn`). `allowed`: the level of the lines
   * for allowed requests; default `debug`, or `decisions` when that is set, so a line per allowed
   * request is written only when asked for (it costs some 15 % of a cache hit's CPU).
   */
  log?: { level?: LogLevel; decisions?: LogLevel; allowed?: LogLevel };
  /** Serve `/metrics` (needs `prom-client`). Default: when `prom-client` can be loaded. */
  metrics?: boolean;
  /** How long SIGTERM waits for requests in flight before closing connections. Default 10 000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * Publish OAuth protected-resource metadata (RFC 9728) for OAuth and MCP clients:
   * `{ "resource": "https://api.example.com/mcp", "scopes": ["mcp/tools"] }`. The service answers
   * `GET /.well-known/oauth-protected-resource{path}` (route it there past the proxy's auth), and its
   * 401 and 403 challenges name the document; `authorizationServers` defaults to the pools' issuers.
   */
  protectedResource?: ProtectedResourceOptions;
  /**
   * Browser sign-in through the service, as oauth2-proxy does it: `/oauth2/start?rd=/path`,
   * `/oauth2/callback` and `/oauth2/sign_out` (POST, same-origin), and the auth endpoints accept
   * the session cookie as well as a bearer token. `clientId` must be one of a pool's clients.
   */
  session?: ServiceSessionConfig;
}

/**
 * The `session` block: the options of `cognito-jwt/session`'s `CognitoSession` that JSON can say
 * (the verifier is the service's own, the routes are oauth2-proxy's), and `store` to keep sessions
 * in Redis. `secrets` may come from `COGNITO_JWT_SESSION_SECRETS` (comma-separated) instead.
 */
export interface ServiceSessionConfig
  extends Pick<
    SessionOptions,
    | 'domain'
    | 'clientId'
    | 'clientSecret'
    | 'appOrigin'
    | 'returnToPaths'
    | 'logoutUri'
    | 'scopes'
    | 'cookieName'
    | 'cookieDomain'
    | 'maxCookieChunks'
    | 'absoluteLifetimeSeconds'
    | 'idleLifetimeSeconds'
    | 'signInLifetimeSeconds'
    | 'refreshMarginSeconds'
    | 'insecureLocalhost'
    | 'timeoutMs'
  > {
  secrets?: string[];
  /**
   * Keep sessions in Redis: the cookie holds only a sealed id and never changes (every proxy carries
   * it). `redis` takes `url` (one node) or `cluster` (a Redis Cluster), as `revocation.redis` does.
   */
  store?: { redis: RedisSessionStoreOptions };
}

/** The service's sign-in routes: oauth2-proxy's, so nginx configs written for it carry over. */
export const SIGN_IN_PATHS = {
  signIn: '/oauth2/start',
  callback: '/oauth2/callback',
  signOut: '/oauth2/sign_out',
} as const;

/** The checked `session` block. */
export interface ServiceSessionSettings {
  /** Session options without the verifiers, the revocation list and the store (built at start). */
  readonly options: Omit<SessionOptions, 'verifier' | 'idTokenVerifier' | 'store' | 'revocationList'>;
  /** The pool whose client signs users in: its ID tokens are verified at sign-in. */
  readonly pool: VerifierConfig;
  readonly store: RedisSessionStoreOptions | undefined;
}

/** `listen`: the address and the limits of the auth listener. */
export interface ListenConfig {
  host?: string;
  port?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxConnections?: number;
}

/** A checked config with every default filled in: what the server runs on. */
export interface ServiceSettings {
  readonly host: string;
  readonly port: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
  /** The admin listener, when `/healthz`, `/readyz` and `/metrics` have their own. */
  readonly admin: { readonly host: string; readonly port: number } | undefined;
  readonly workers: number;
  readonly pools: readonly VerifierConfig[];
  readonly tokenCookie: string | undefined;
  /** The load balancer's config in ALB mode. */
  readonly alb: AlbVerifierConfig | undefined;
  readonly routes: readonly Route[];
  readonly caseSensitivePaths: boolean;
  readonly claimsHeader: boolean;
  /** The config's own identity headers, by lower-case name. */
  readonly identityHeaders: ClaimHeaderMap;
  readonly realm: string | undefined;
  readonly keys: ServiceKeyOptions;
  readonly tokenCache: boolean | { maxEntries?: number };
  readonly maxTokenLength: number | undefined;
  readonly revocation: RevocationConfig | undefined;
  readonly envoyPathPrefix: string;
  readonly logLevel: LogLevel;
  readonly decisionLevel: LogLevel;
  readonly allowedLevel: LogLevel;
  /** `undefined`: serve metrics when prom-client loads. */
  readonly metrics: boolean | undefined;
  readonly shutdownTimeoutMs: number;
  /** The protected-resource metadata to serve, when configured. */
  readonly protectedResource: ProtectedResource | undefined;
  /** Browser sign-in, when configured. */
  readonly session: ServiceSessionSettings | undefined;
}

export const DEFAULT_PORT = 9180;
/** The listener's defaults: a proxy sends an auth request's headers at once and no body. */
export const DEFAULT_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 4096 };
export const DEFAULT_ROUTES: RouteConfig[] = [{ path: '/**', require: 'authenticated' }];

const CONFIG_KEYS = optionKeys<ServiceConfig>(
  'service config',
  {
    listen: true,
    admin: true,
    workers: true,
    pools: true,
    token: true,
    alb: true,
    routes: true,
    roles: true,
    caseSensitivePaths: true,
    claimsHeader: true,
    identityHeaders: true,
    realm: true,
    keys: true,
    tokenCache: true,
    maxTokenLength: true,
    revocation: true,
    envoyPathPrefix: true,
    log: true,
    metrics: true,
    shutdownTimeoutMs: true,
    protectedResource: true,
    session: true,
  },
  {
    userPoolId: 'put it in an entry of "pools"',
    clientId: 'put it in an entry of "pools"',
    tokenUse: 'put it in an entry of "pools"',
    audience: 'put it in an entry of "pools"',
    groupsClaim: 'put it in an entry of "pools"',
    acrLevels: 'put it in an entry of "pools"',
    claims: 'put it in an entry of "pools" (a schema per pool)',
    port: 'set it as "listen": { "port": … }',
    host: 'set it as "listen": { "host": … }',
    cookie: 'set it as "token": { "cookie": … }',
  },
);
const LISTEN_KEYS = optionKeys<ListenConfig>('listen', {
  host: true,
  port: true,
  headersTimeoutMs: true,
  requestTimeoutMs: true,
  maxConnections: true,
});
type AdminConfig = NonNullable<ServiceConfig['admin']>;
const ADMIN_KEYS = optionKeys<AdminConfig>(
  'admin',
  { listen: true },
  {
    port: 'set it as "admin": { "listen": { "port": … } }',
    host: 'set it as "admin": { "listen": { "host": … } }',
  },
);
const ADMIN_LISTEN_KEYS = optionKeys<AdminConfig['listen']>('admin.listen', { host: true, port: true });
/**
 * The key lists the checker uses, by where they apply: `npm run schema` builds
 * `schema/service.schema.json` from them, so the schema knows exactly the keys the checker does.
 */
export const SERVICE_CONFIG_KEY_LISTS = {
  get config() {
    return CONFIG_KEYS;
  },
  get listen() {
    return LISTEN_KEYS;
  },
  get token() {
    return TOKEN_KEYS;
  },
  get log() {
    return LOG_KEYS;
  },
  get keys() {
    return KEY_OPTION_KEYS;
  },
  get pool() {
    return POOL_KEYS;
  },
  get admin() {
    return ADMIN_KEYS;
  },
  get adminListen() {
    return ADMIN_LISTEN_KEYS;
  },
  get session() {
    return SESSION_KEYS;
  },
  get sessionStore() {
    return SESSION_STORE_KEYS;
  },
};

/** `"$schema"` points editors at the JSON Schema; the checker accepts it and ignores it. */
function withoutSchemaKey(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('$schema' in raw)) return raw;
  const { $schema, ...rest } = raw as Record<string, unknown>;
  if (typeof $schema !== 'string')
    throw new ConfigError(`"$schema" must be a string (a URL or path of the schema)`);
  return rest;
}

const SESSION_KEYS = optionKeys<ServiceSessionConfig>(
  'session',
  {
    domain: true,
    clientId: true,
    clientSecret: true,
    appOrigin: true,
    secrets: true,
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
    insecureLocalhost: true,
    timeoutMs: true,
    store: true,
  },
  {
    paths: 'the routes are /oauth2/start, /oauth2/callback and /oauth2/sign_out',
    verifier: 'sessions are verified by the "pools" (and the "routes")',
    redis: 'set it as "store": { "redis": { "url": … } }',
    secret: '"secrets" takes a list (or set COGNITO_JWT_SESSION_SECRETS)',
  },
);
const SESSION_STORE_KEYS = optionKeys<NonNullable<ServiceSessionConfig['store']>>('session.store', {
  redis: true,
});
const TOKEN_KEYS = optionKeys<NonNullable<ServiceConfig['token']>>('token', { cookie: true });
const LOG_KEYS = optionKeys<NonNullable<ServiceConfig['log']>>('log', {
  level: true,
  decisions: true,
  allowed: true,
});
// A pool is a verifier config: its keys, under the service's own name and advice.
const POOL_KEYS: OptionKeys<VerifierConfig> = {
  ...VERIFIER_CONFIG_KEYS,
  what: 'pool',
  misplaced: { routes: 'route rules go in the top-level "routes"' },
};
const KEY_OPTION_KEYS = optionKeys<ServiceKeyOptions>('keys', {
  timeoutMs: true,
  maxBytes: true,
  cooldownMs: true,
  maxAgeMs: true,
  staleIfErrorMs: true,
  backoffMs: true,
  maxBackoffMs: true,
  offline: true,
});
/**
 * The environment variables the service reads, each standing for a config setting. They win over
 * the file; the pool variables describe one pool and only apply when the file lists none.
 */
export const ENVIRONMENT = {
  COGNITO_JWT_CONFIG: 'path of the config file (instead of --config)',
  COGNITO_JWT_HOST: 'listen.host',
  COGNITO_JWT_PORT: 'listen.port',
  COGNITO_JWT_WORKERS: 'workers',
  COGNITO_JWT_LOG_LEVEL: 'log.level',
  COGNITO_JWT_USER_POOL_ID: 'pools[0].userPoolId',
  COGNITO_JWT_CLIENT_ID: 'pools[0].clientId (comma-separated; "any" for null)',
  COGNITO_JWT_TOKEN_USE: 'pools[0].tokenUse (id, access or any)',
  COGNITO_JWT_ISSUER: 'pools[0].issuer',
  COGNITO_JWT_JWKS: 'pools[0].jwks (a snapshot file)',
  COGNITO_JWT_TOKEN_COOKIE: 'token.cookie',
  COGNITO_JWT_REDIS_URL: 'revocation.redis.url (onUnavailable defaults to "reject")',
  COGNITO_JWT_SESSION_SECRETS: 'session.secrets (comma-separated)',
} as const;

function oneOfWords<const Word extends string>(name: string, value: unknown, words: readonly Word[]): Word {
  if (typeof value === 'string' && (words as readonly string[]).includes(value)) return value as Word;
  const near = typeof value === 'string' ? closestName(value, words) : undefined;
  throw new ConfigError(
    `${name} must be one of ${words.join(', ')}, got ${typeof value === 'string' ? JSON.stringify(value) : typeName(value)}` +
      (near ? `; did you mean "${near}"?` : ''),
  );
}

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${name} must be a non-empty string`);
  return value;
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return checkNumber(name, Number(value), { min, max, integer: true });
}

/** Check the environment for COGNITO_JWT_* names the service does not know (a typo would be ignored). */
function checkEnvironmentNames(env: NodeJS.ProcessEnv): void {
  const known = Object.keys(ENVIRONMENT);
  for (const name of Object.keys(env)) {
    if (!name.startsWith('COGNITO_JWT_') || known.includes(name)) continue;
    const near = closestName(name, known);
    throw new ConfigError(
      `unknown environment variable ${name}` +
        (near ? `; did you mean ${near}?` : '') +
        ` (known: ${known.join(', ')})`,
    );
  }
}

/** The one pool the COGNITO_JWT_* pool variables describe, or `undefined` when none is set. */
function poolFromEnvironment(env: NodeJS.ProcessEnv): VerifierConfig | undefined {
  const userPoolId = env.COGNITO_JWT_USER_POOL_ID;
  const clientId = env.COGNITO_JWT_CLIENT_ID;
  const tokenUse = env.COGNITO_JWT_TOKEN_USE;
  if (userPoolId === undefined && clientId === undefined && tokenUse === undefined) return undefined;
  if (userPoolId === undefined || clientId === undefined || tokenUse === undefined) {
    throw new ConfigError(
      'COGNITO_JWT_USER_POOL_ID, COGNITO_JWT_CLIENT_ID and COGNITO_JWT_TOKEN_USE go together: set all three',
    );
  }
  const use = oneOfWords('COGNITO_JWT_TOKEN_USE', tokenUse, ['id', 'access', 'any']);
  return {
    userPoolId,
    clientId: clientId === 'any' ? null : clientId.split(',').map((id) => id.trim()),
    tokenUse: use === 'any' ? null : use,
    ...(env.COGNITO_JWT_ISSUER === undefined ? {} : { issuer: env.COGNITO_JWT_ISSUER }),
    ...(env.COGNITO_JWT_JWKS === undefined ? {} : { jwks: env.COGNITO_JWT_JWKS }),
  };
}

function checkPools(raw: unknown, baseDir: string): VerifierConfig[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError('pools must be a non-empty list of { userPoolId, clientId, tokenUse, ... }');
  }
  return raw.map((pool: unknown, index) => {
    checkOptions(POOL_KEYS, pool, `pools[${index}]: `);
    if (pool === undefined) throw new ConfigError(`pools[${index}] is missing`);
    const config: VerifierConfig =
      typeof pool.jwks === 'string' && !isAbsolute(pool.jwks)
        ? { ...pool, jwks: resolve(baseDir, pool.jwks) }
        : pool;
    try {
      resolveConfig(config, index); // the verifier's own checks, now, with the pool's position
    } catch (error) {
      throw new ConfigError(`pools[${index}]: ${(error as Error).message.replace(/^config \d+: /, '')}`);
    }
    return config;
  });
}

function checkAlb(
  raw: AlbVerifierConfig | undefined,
  cookie: string | undefined,
): AlbVerifierConfig | undefined {
  if (raw === undefined) return undefined;
  if (cookie !== undefined)
    throw new ConfigError('alb reads the x-amzn-oidc-* headers; token.cookie cannot be used with it');
  try {
    new AlbVerifier(raw); // the verifier's own checks, now (nothing is fetched)
  } catch (error) {
    throw new ConfigError(`alb: ${(error as Error).message}`, { cause: error });
  }
  return raw;
}

function checkAdmin(raw: unknown, auth: { host: string; port: number }): ServiceSettings['admin'] {
  checkOptions(ADMIN_KEYS, raw, '');
  if (raw === undefined) return undefined;
  if (raw.listen === undefined) throw new ConfigError('admin needs "listen": { "port": … }');
  checkOptions(ADMIN_LISTEN_KEYS, raw.listen, '');
  const host = text('admin.listen.host', raw.listen.host ?? '127.0.0.1');
  const port = checkNumber('admin.listen.port', raw.listen.port, { min: 0, max: 65535, integer: true });
  if (port !== 0 && port === auth.port) {
    throw new ConfigError(`admin.listen.port must differ from listen.port (both ${port})`);
  }
  return { host, port };
}

/** Whether a pool accepts tokens of `clientId` (a pool with `clientId: null` accepts any). */
function poolHasClient(pool: VerifierConfig, clientId: string): boolean {
  const ids = pool.clientId;
  return ids === null || ids === clientId || (Array.isArray(ids) && ids.includes(clientId));
}

function checkSession(
  raw: unknown,
  pools: readonly VerifierConfig[],
  env: NodeJS.ProcessEnv,
  alb: boolean,
): ServiceSessionSettings | undefined {
  if (raw === undefined) return undefined;
  checkOptions(SESSION_KEYS, raw, '');
  if (raw === undefined) return undefined;
  if (alb) throw new ConfigError('session signs users in; in ALB mode the load balancer does');
  const { store, secrets: fileSecrets, ...rest } = raw;
  const envSecrets = env.COGNITO_JWT_SESSION_SECRETS?.split(',').map((secret) => secret.trim());
  const secrets = envSecrets ?? fileSecrets;
  if (secrets === undefined) {
    throw new ConfigError(
      'session needs "secrets" (or COGNITO_JWT_SESSION_SECRETS): openssl rand -base64 32',
    );
  }
  const clientId = text('session.clientId', rest.clientId);
  const pool = pools.find((each) => poolHasClient(each, clientId));
  if (pool === undefined) {
    throw new ConfigError(
      `session.clientId ${JSON.stringify(clientId)} is not a client of any entry of "pools"`,
    );
  }
  const { groups: _groups, scopes: _scopes, ...poolOnly } = pool;
  let resolvedStore: RedisSessionStoreOptions | undefined;
  if (store !== undefined) {
    checkOptions(SESSION_STORE_KEYS, store, '');
    if (store?.redis === undefined) {
      throw new ConfigError(
        'session.store needs "redis": { "url": … } (or { "cluster": { "rootNodes": […] } })',
      );
    }
    try {
      resolveRedisSessionStore(store.redis);
    } catch (error) {
      throw new ConfigError(`session.store.redis: ${(error as Error).message}`, { cause: error });
    }
    resolvedStore = store.redis;
  }
  const options = { ...rest, secrets, paths: { ...SIGN_IN_PATHS } };
  try {
    // The session's own checks, now (nothing is fetched): a mistake stops --check and the start.
    new CognitoSession({
      ...options,
      verifier: { ...poolOnly, clientId, tokenUse: pool.tokenUse === 'id' ? 'id' : 'access' },
    });
  } catch (error) {
    throw new ConfigError(`session: ${(error as Error).message}`, { cause: error });
  }
  return { options, pool, store: resolvedStore };
}

function checkRevocation(raw: unknown, redisUrl: string | undefined): RevocationConfig | undefined {
  if (raw === undefined && redisUrl === undefined) return undefined;
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ConfigError(`revocation must be an object, got ${typeName(raw)}`);
  }
  const config = { ...(raw as Record<string, unknown> | undefined) };
  if ('clock' in config) throw new ConfigError('revocation: "clock" cannot be set from a config file');
  if (redisUrl !== undefined) {
    // COGNITO_JWT_REDIS_URL alone means a Redis list that refuses tokens (503) while it cannot be trusted.
    const redis = typeof config.redis === 'object' && config.redis !== null ? config.redis : {};
    Object.assign(config, {
      redis: { ...redis, url: redisUrl },
      onUnavailable: config.onUnavailable ?? 'reject',
    });
    if (config.store === 'memory') delete config.store;
  }
  // The list's own constructor checks every option when the service starts (and with --check).
  return config as unknown as RevocationConfig;
}

/**
 * Check a parsed config file and the environment, fill in the defaults, compile the routes.
 * Throws {@link ConfigError} naming the first mistake (and the closest known key for a typo).
 * `baseDir` is where relative paths in the file start (the file's folder).
 *
 * ```ts
 * const settings = checkServiceConfig(JSON.parse(text), { baseDir: '/etc/cognito-jwt', env: process.env });
 * ```
 */
export function checkServiceConfig(
  given: unknown,
  options: { baseDir: string; env?: NodeJS.ProcessEnv },
): ServiceSettings {
  const env = options.env ?? {};
  checkEnvironmentNames(env);
  const raw = withoutSchemaKey(given);
  checkOptions(CONFIG_KEYS, raw, '');
  const config: Partial<ServiceConfig> = raw ?? {};
  checkOptions(LISTEN_KEYS, config.listen, '');
  checkOptions(TOKEN_KEYS, config.token, '');
  checkOptions(LOG_KEYS, config.log, '');
  checkOptions(KEY_OPTION_KEYS, config.keys, '');

  const envPool = poolFromEnvironment(env);
  if (envPool && config.pools !== undefined) {
    throw new ConfigError('the config file lists pools and COGNITO_JWT_USER_POOL_ID is set too: keep one');
  }
  const pools = checkPools(envPool ? [envPool] : config.pools, options.baseDir);

  const host = env.COGNITO_JWT_HOST ?? config.listen?.host ?? '127.0.0.1';
  text('listen.host', host);
  const port =
    env.COGNITO_JWT_PORT !== undefined
      ? integer('COGNITO_JWT_PORT', env.COGNITO_JWT_PORT, 0, 65535)
      : checkNumber('listen.port', config.listen?.port ?? DEFAULT_PORT, {
          min: 0,
          max: 65535,
          integer: true,
        });
  const limit = (name: keyof typeof DEFAULT_LIMITS) =>
    checkNumber(`listen.${name}`, config.listen?.[name] ?? DEFAULT_LIMITS[name], {
      min: 1,
      max: 3_600_000,
      integer: true,
    });
  const headersTimeoutMs = limit('headersTimeoutMs');
  const requestTimeoutMs = limit('requestTimeoutMs');
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `listen.headersTimeoutMs (${headersTimeoutMs}) must not exceed listen.requestTimeoutMs (${requestTimeoutMs}): the headers are part of the request`,
    );
  }
  const maxConnections = limit('maxConnections');
  const admin = checkAdmin(config.admin, { host, port });
  const workers =
    env.COGNITO_JWT_WORKERS !== undefined
      ? integer('COGNITO_JWT_WORKERS', env.COGNITO_JWT_WORKERS, 1, 256)
      : checkNumber('workers', config.workers ?? availableParallelism(), { min: 1, max: 256, integer: true });

  const cookie = env.COGNITO_JWT_TOKEN_COOKIE ?? config.token?.cookie;
  if (cookie !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text('token.cookie', cookie))) {
    throw new ConfigError(
      `token.cookie must be a cookie name (an RFC 6265 token), got ${JSON.stringify(cookie)}`,
    );
  }
  const caseSensitivePaths = checkBoolean('caseSensitivePaths', config.caseSensitivePaths ?? true);
  const routes = compileRoutes(config.routes ?? DEFAULT_ROUTES, {
    caseSensitive: caseSensitivePaths,
    roles: config.roles,
  });

  const envoyPathPrefix = config.envoyPathPrefix ?? '/envoy';
  if (!/^\/[\w\-./]*[\w-]$/.test(envoyPathPrefix) || envoyPathPrefix.includes('..')) {
    throw new ConfigError(
      `envoyPathPrefix must be a path such as "/envoy", got ${JSON.stringify(envoyPathPrefix)}`,
    );
  }
  const logLevel = oneOfWords(
    'log.level',
    env.COGNITO_JWT_LOG_LEVEL ?? config.log?.level ?? 'info',
    LOG_LEVELS,
  );
  const decisionLevel = oneOfWords('log.decisions', config.log?.decisions ?? 'info', LOG_LEVELS);
  // A config that set `decisions` before `allowed` existed keeps a line for every decision.
  const allowedLevel = oneOfWords(
    'log.allowed',
    config.log?.allowed ?? (config.log?.decisions === undefined ? 'debug' : decisionLevel),
    LOG_LEVELS,
  );

  const revocation = checkRevocation(config.revocation, env.COGNITO_JWT_REDIS_URL);
  const tokenCache = config.tokenCache ?? true;
  if (typeof tokenCache !== 'boolean') {
    checkOptions(optionKeys<{ maxEntries?: number }>('tokenCache', { maxEntries: true }), tokenCache, '');
  }

  const alb = checkAlb(config.alb, cookie);
  if (alb !== undefined && config.protectedResource !== undefined) {
    throw new ConfigError(
      'protectedResource tells clients to bring a bearer token; in ALB mode the load balancer signs users in instead',
    );
  }
  const described =
    config.protectedResource === undefined
      ? undefined
      : protectedResource(
          config.protectedResource,
          pools.flatMap((pool, index) => resolveConfig(pool, index).map((entry) => entry.issuer)),
          'service config',
        );

  const session = checkSession(config.session, pools, env, alb !== undefined);

  return {
    host,
    port,
    headersTimeoutMs,
    requestTimeoutMs,
    maxConnections,
    admin,
    workers,
    pools,
    tokenCookie: cookie,
    alb,
    routes,
    caseSensitivePaths,
    claimsHeader: checkBoolean('claimsHeader', config.claimsHeader ?? false),
    identityHeaders: checkClaimHeaders(config.identityHeaders),
    realm: config.realm === undefined ? undefined : text('realm', config.realm),
    keys: config.keys ?? {},
    tokenCache,
    maxTokenLength:
      config.maxTokenLength === undefined
        ? undefined
        : checkNumber('maxTokenLength', config.maxTokenLength, { min: 1, integer: true }),
    revocation,
    envoyPathPrefix,
    logLevel,
    decisionLevel,
    allowedLevel,
    metrics: config.metrics === undefined ? undefined : checkBoolean('metrics', config.metrics),
    shutdownTimeoutMs: checkNumber('shutdownTimeoutMs', config.shutdownTimeoutMs ?? 10_000, { min: 0 }),
    protectedResource: described,
    session,
  };
}

/**
 * Read and check a config file (or only the environment when `path` is undefined).
 *
 * ```ts
 * const settings = await loadServiceConfig('/etc/cognito-jwt/service.json', process.env);
 * ```
 */
export async function loadServiceConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceSettings> {
  const file = path ?? env.COGNITO_JWT_CONFIG;
  if (file === undefined) return checkServiceConfig({}, { baseDir: process.cwd(), env });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read the config file ${file}: ${(cause as Error).message}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`the config file ${file} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  // JSON.parse keeps the last of two same-named keys: a second "routes" would replace the first.
  const twice = duplicateMember(text);
  if (twice !== undefined) {
    throw new ConfigError(
      `the config file ${file} names the key ${twice} twice; keep one (JSON readers disagree on which counts)`,
    );
  }
  return checkServiceConfig(raw, { baseDir: dirname(resolve(file)), env });
}

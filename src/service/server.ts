/**
 * The HTTP server of `cognito-jwt serve`: the auth endpoints of each proxy contract, `/healthz`,
 * `/readyz` and `/metrics` (on the same port, or on the admin listener), and a graceful close. One process; `cluster.ts` runs several.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlbVerifier } from '../alb/verifier.ts';
import { CognitoJwtError, type ErrorCode } from '../errors.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { resolveConfig, type VerifierConfig } from '../verify/config.ts';
import { CognitoVerifier, type VerifierOptions } from '../verify/verifier.ts';
import type { ServiceSettings } from './config.ts';
import { originalRequest } from './contracts.ts';
import {
  albAuthenticator,
  type DecideOptions,
  decide,
  type TokenVerifier,
  tokenAuthenticator,
} from './decide.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type ServiceMetrics } from './metrics.ts';
import { openRevocation, type RevocationCheck } from './revocation.ts';
import { openSignIn, type ServiceSignIn, sessionAuthenticator } from './sign-in.ts';

/** What `verifySync` throws where `verify` would fetch a key (or, on Web Crypto, check asynchronously). */
const NEEDS_FETCH: ReadonlySet<ErrorCode> = new Set([
  'ERR_KEYS_NOT_LOADED',
  'ERR_KEY_NOT_FOUND',
  'ERR_SYNC_UNSUPPORTED',
]);

/** A started service. */
export interface RunningService {
  readonly server: Server;
  /** `http://host:port` it listens on. */
  readonly url: string;
  /** The admin listener's `http://host:port` (`/healthz`, `/readyz`, `/metrics`), when it has one. */
  readonly adminUrl: string | undefined;
  readonly verifier: CognitoVerifier<readonly VerifierConfig[]>;
  /** Whether `/readyz` would answer 200 now. */
  ready(): boolean;
  /** Stop accepting, let requests in flight finish (up to `shutdownTimeoutMs`), release everything. */
  close(): Promise<void>;
}

/** What {@link startService} may be given instead of building it (tests, the cluster worker). */
export interface StartOptions {
  logger?: Logger;
  /** `undefined`: build from the settings (metrics when prom-client loads, unless turned off). */
  metrics?: ServiceMetrics | null;
  /** Overrides the JWKS transport (tests). */
  fetch?: typeof fetch;
}

/**
 * Build the verifier, the routes and the revocation list from checked settings and listen.
 *
 * ```ts
 * const service = await startService(await loadServiceConfig('service.json'));
 * process.on('SIGTERM', () => service.close());
 * ```
 */
export async function startService(
  settings: ServiceSettings,
  options: StartOptions = {},
): Promise<RunningService> {
  const logger =
    options.logger ??
    createLogger({
      level: settings.logLevel,
      decisions: settings.decisionLevel,
      allowed: settings.allowedLevel,
    });
  const metrics =
    options.metrics === null
      ? undefined
      : (options.metrics ??
        (settings.metrics === false
          ? undefined
          : await createMetrics({ required: settings.metrics === true })));
  const revocation: RevocationCheck | undefined =
    settings.revocation === undefined ? undefined : openRevocation(settings.revocation, logger);
  if (revocation !== undefined) metrics?.revocationEntries(() => revocation.pools());

  const verifierOptions: VerifierOptions = {
    ...settings.keys,
    verifiedTokenCache: settings.tokenCache,
    ...(settings.maxTokenLength === undefined ? {} : { maxTokenLength: settings.maxTokenLength }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(revocation === undefined
      ? {}
      : { isRevoked: (claims: CognitoClaims) => revocation.isRevoked(claims) }),
  };
  const verifier = new CognitoVerifier(settings.pools, verifierOptions);
  // The JWKS URLs of each pool: a pool is ready when one of them has usable keys.
  const poolUris = settings.pools.map((pool, index) =>
    resolveConfig(pool, index).map((entry) => entry.jwksUri),
  );

  // Token-cache hits, told apart by identity: the cache hands back the very claims object it stored.
  const seenClaims = new WeakSet<object>();
  const countCacheLookup =
    metrics && settings.tokenCache !== false
      ? (claims: CognitoClaims) => {
          metrics.tokenCache(seenClaims.has(claims));
          seenClaims.add(claims);
          return claims;
        }
      : (claims: CognitoClaims) => claims;
  const countingVerifier: TokenVerifier = {
    verify(token) {
      // With its key loaded a token is verified here and now, without the promises of verify();
      // only a key to fetch (not loaded yet, too old, or an unknown kid) takes the async path,
      // which then decides exactly as before.
      try {
        return countCacheLookup(verifier.verifySync(token));
      } catch (error) {
        if (!(error instanceof CognitoJwtError) || !NEEDS_FETCH.has(error.code)) throw error;
      }
      return verifier.verify(token).then(countCacheLookup);
    },
    checkRevoked: (claims) => verifier.checkRevoked(claims),
  };
  const signIn: ServiceSignIn | undefined =
    settings.session === undefined
      ? undefined
      : await openSignIn(settings.session, countingVerifier, revocation?.list, logger, options.fetch);
  const bearer = tokenAuthenticator(countingVerifier, settings.tokenCookie);
  const decideOptions: DecideOptions = {
    routes: settings.routes,
    caseSensitivePaths: settings.caseSensitivePaths,
    claimsHeader: settings.claimsHeader,
    claimHeaders: settings.identityHeaders,
    realm: settings.realm,
    resourceMetadata: settings.protectedResource?.url,
    authenticate:
      settings.alb !== undefined
        ? albAuthenticator(
            new AlbVerifier(settings.alb, options.fetch === undefined ? {} : { fetch: options.fetch }),
            countingVerifier,
          )
        : signIn === undefined
          ? bearer
          : sessionAuthenticator(signIn.session, bearer),
  };

  let lastHydrate = 0;
  const hydrate = () => {
    lastHydrate = Date.now();
    verifier.hydrate().then(
      () => logger.log('info', 'keys loaded', { pools: poolUris.length }),
      (error: Error & { code?: string }) =>
        logger.log('warn', 'keys could not be loaded yet', { code: error.code, detail: error.message }),
    );
  };
  const keysReady = () => poolUris.map((uris) => uris.some((uri) => verifier.jwksCache.inspect(uri).usable));
  const ready = () => keysReady().every(Boolean) && (revocation?.fresh() ?? true);

  let closing = false;
  const listener = (handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>) => {
    const server = createServer(
      {
        headersTimeout: settings.headersTimeoutMs,
        requestTimeout: settings.requestTimeoutMs,
        // How often Node looks for requests past those limits (its default is every 30 s).
        connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(settings.headersTimeoutMs / 4))),
      },
      (request, response) => {
        if (closing) response.setHeader('connection', 'close');
        handle(request, response).catch((error: Error) => {
          logger.log('error', 'request failed', { detail: error.message });
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"code":"ERR_INTERNAL"}');
        });
      },
    );
    // Proxies keep upstream connections open (nginx's keepalive, Envoy's pools): outlive their idle
    // timeouts. (An idle kept-alive connection does not count towards headersTimeout.)
    server.keepAliveTimeout = 75_000;
    server.maxConnections = settings.maxConnections;
    return server;
  };
  const server = listener(handleAuth);
  const adminServer = settings.admin === undefined ? undefined : listener(handleAdmin);

  async function handleAuth(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = request.url ?? '/';
    const method = request.method ?? 'GET';
    const original = originalRequest(method, url, request, settings.envoyPathPrefix);
    if (original) {
      const decision = await decide(original, request, decideOptions);
      response.writeHead(
        decision.status,
        decision.cookies.length === 0
          ? decision.headers
          : { ...decision.headers, 'set-cookie': [...decision.cookies] },
      );
      if (decision.body === '') response.end();
      else response.end(decision.body);
      const seconds = (performance.now() - started) / 1000;
      metrics?.decision(decision, seconds);
      logger.decision(decision, seconds * 1000, undefined);
      return;
    }
    // The browser's sign-in routes, which the proxy sends here past its auth.
    if (signIn !== undefined && (await signIn.handle(request, response))) return;
    // The protected-resource metadata is public and the proxy sends it here, to the auth port:
    // the document only, what clients must know to get a token, nothing else of the config.
    const described = settings.protectedResource;
    if (described !== undefined && url.split('?', 1)[0] === described.path) {
      if (method !== 'GET' && method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
        response.end('{"code":"METHOD_NOT_ALLOWED"}');
        return;
      }
      response.writeHead(described.response.status, described.response.headers);
      response.end(method === 'HEAD' ? undefined : described.response.body);
      return;
    }
    // With an admin listener the auth port answers auth requests only.
    if (adminServer === undefined) await handleAdmin(request, response);
    else notFound(response);
  }

  async function handleAdmin(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') {
      json(response, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      const keys = keysReady();
      const revocationFresh = revocation?.fresh() ?? true;
      const ok = keys.every(Boolean) && revocationFresh;
      if (!keys.every(Boolean) && Date.now() - lastHydrate > 1_000) hydrate();
      json(response, ok ? 200 : 503, {
        status: ok ? 'ready' : 'not ready',
        pools: keys.map((loaded, index) => ({ pool: settings.pools[index]!.userPoolId, keys: loaded })),
        ...(revocation === undefined ? {} : { revocation: revocationFresh ? 'fresh' : 'stale' }),
      });
    } else if (path === '/metrics' && metrics) {
      const { contentType, body } = await metrics.render();
      response.writeHead(200, { 'content-type': contentType });
      response.end(body);
    } else {
      notFound(response);
    }
  }

  const url = await listen(server, settings.port, settings.host);
  let adminUrl: string | undefined;
  try {
    if (adminServer && settings.admin)
      adminUrl = await listen(adminServer, settings.admin.port, settings.admin.host);
  } catch (error) {
    server.close();
    throw error;
  }
  hydrate();
  logger.log('info', 'listening', {
    url,
    ...(adminUrl === undefined ? {} : { admin: adminUrl }),
    pools: settings.pools.map((pool) => pool.userPoolId),
    routes: settings.routes.length,
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    url,
    adminUrl,
    verifier,
    ready,
    close() {
      closed ??= (async () => {
        closing = true;
        const servers = adminServer ? [server, adminServer] : [server];
        const done = Promise.all(
          servers.map((each) => new Promise<void>((resolve) => each.close(() => resolve()))),
        );
        for (const each of servers) each.closeIdleConnections();
        const timer = setTimeout(() => {
          for (const each of servers) each.closeAllConnections();
        }, settings.shutdownTimeoutMs);
        await done;
        clearTimeout(timer);
        metrics?.close();
        await signIn?.close();
        await revocation?.close();
        logger.log('info', 'stopped');
      })();
      return closed;
    },
  };
}

/** Listen and return `http://host:port`. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** A 404 that names nothing: a scanner learns no endpoint from it. */
function notFound(response: ServerResponse): void {
  json(response, 404, { code: 'ERR_NOT_FOUND', message: 'not found' });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

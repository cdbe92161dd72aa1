/**
 * What `serve --check` and start-up do before anything listens: load the optional packages the
 * config needs (so a missing one is named with its install command now, not in a worker's crash
 * loop), and describe what the service will do, line by line.
 */
import { ConfigError } from '../errors.ts';
import { resolveConfig } from '../verify/config.ts';
import type { CognitoVerifier } from '../verify/verifier.ts';
import type { ServiceSettings } from './config.ts';
import { loadPromClient } from './metrics.ts';

/** Loads an optional package, or resolves `undefined` when it is not installed. */
export type PeerLoader = () => Promise<unknown>;

/**
 * Throw {@link ConfigError} naming `npm install prom-client` when the config asks for metrics
 * (`"metrics": true`) and the package cannot be loaded. `loadMetrics` replaces the loader (tests).
 *
 * ```ts
 * await checkOptionalPeers(settings);
 * ```
 */
export async function checkOptionalPeers(
  settings: ServiceSettings,
  loadMetrics: PeerLoader = loadPromClient,
): Promise<void> {
  if (settings.metrics === true && (await loadMetrics()) === undefined) {
    throw new ConfigError(
      'metrics need the prom-client package: npm install prom-client (or set "metrics": false)',
    );
  }
}

/** A Redis URL with its password replaced, for printing. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/**
 * What the service will do, one line each: listener(s), pools and where their keys come from
 * (with a snapshot, its key count as `verifier` loaded it), ALB mode, token source, each route
 * with its requirement, the protected-resource metadata, the revocation store, the sign-in's
 * session store, metrics.
 *
 * ```ts
 * for (const line of describeService(settings, new CognitoVerifier(settings.pools))) console.log(line);
 * ```
 */
export function describeService(
  settings: ServiceSettings,
  verifier: Pick<CognitoVerifier<never>, 'jwksCache'>,
  promClientInstalled: boolean,
): string[] {
  const lines: string[] = [];
  const workers = `${settings.workers} worker${settings.workers === 1 ? '' : 's'}`;
  lines.push(
    `listen   ${settings.host}:${settings.port}, ${workers}; headers within ${settings.headersTimeoutMs} ms, ` +
      `request within ${settings.requestTimeoutMs} ms, at most ${settings.maxConnections} connections per worker`,
  );
  lines.push(
    settings.admin === undefined
      ? 'admin    /healthz, /readyz, /metrics on the auth port'
      : `admin    ${settings.admin.host}:${settings.admin.port} (/healthz, /readyz, /metrics); the auth port answers auth requests only`,
  );
  for (const [index, pool] of settings.pools.entries()) {
    const clients = pool.clientId === null ? 'any client' : [pool.clientId].flat().join(', ');
    lines.push(`pool     ${pool.userPoolId} (${pool.tokenUse ?? 'id or access'} tokens; ${clients})`);
    for (const { jwksUri } of resolveConfig(pool, index)) {
      const kids = verifier.jwksCache.inspect(jwksUri).kids.length;
      lines.push(
        pool.jwks === undefined
          ? `keys     fetched at start from ${jwksUri}`
          : `keys     ${kids} key${kids === 1 ? '' : 's'} from the snapshot ${typeof pool.jwks === 'string' ? pool.jwks : '(inline)'}; refreshed from ${jwksUri} when stale`,
      );
    }
  }
  const alb = settings.alb;
  lines.push(
    alb === undefined
      ? 'alb      off (the token comes from the request)'
      : `alb      on: x-amzn-oidc-data from ${[alb.albArn].flat().join(', ')} (issuer ${alb.issuer === null ? 'any' : [alb.issuer].flat().join(', ')}; client ${alb.clientId === null ? 'any' : [alb.clientId].flat().join(', ')}), x-amzn-oidc-accesstoken verified by the pools`,
  );
  if (alb === undefined) {
    lines.push(
      `token    Authorization: Bearer${settings.tokenCookie ? `, else the cookie ${settings.tokenCookie}` : ''}`,
    );
  }
  const described = settings.protectedResource;
  if (described !== undefined) {
    lines.push(
      `metadata ${described.path} on the auth port: resource ${described.metadata.resource}, authorization servers ${described.metadata.authorization_servers.join(', ')}`,
    );
  }
  lines.push(
    `paths    ${settings.caseSensitivePaths ? 'case-sensitive' : 'case-insensitive (non-ASCII paths refused)'}`,
  );
  for (const route of settings.routes) {
    const methods = route.methods ? [...route.methods].join(',') : '*';
    lines.push(
      `route    ${String(route.index).padStart(2)}  ${methods.padEnd(10)} ${route.pattern}  → ${route.requirement}`,
    );
  }
  lines.push('route    --  *          (anything else)  → refused (403)');
  const revocation = settings.revocation;
  if (revocation === undefined) lines.push('revoke   off (no revocation list)');
  else if (revocation.redis !== undefined) {
    lines.push(
      `revoke   redis ${revocation.redis.cluster ? `cluster ${revocation.redis.cluster.rootNodes.map(redactUrl).join(',')}` : redactUrl(revocation.redis.url ?? '')}; while it cannot be trusted: ${revocation.onUnavailable}`,
    );
  } else lines.push('revoke   memory (this process only)');
  const session = settings.session;
  if (session !== undefined) {
    const store = session.store;
    const where =
      store === undefined
        ? 'in the sealed cookie'
        : store.cluster
          ? `in redis cluster ${store.cluster.rootNodes.map(redactUrl).join(',')}`
          : `in redis ${redactUrl(store.url ?? '')}`;
    lines.push(
      `session  sign-in for ${session.options.clientId} at ${session.options.appOrigin}; sessions ${where}`,
    );
  }
  lines.push(
    `metrics  ${
      settings.metrics === false
        ? 'off'
        : promClientInstalled
          ? `on, /metrics on the ${settings.admin ? 'admin' : 'auth'} port`
          : 'off (prom-client is not installed)'
    }`,
  );
  return lines;
}

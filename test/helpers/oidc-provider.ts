import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair } from '../../src/testing/index.ts';

/**
 * oidc-provider 9 running in-process on 127.0.0.1 with Cognito's endpoint paths
 * (`/oauth2/token`, `/oauth2/revoke`): refresh_token and client_credentials grants, revocation,
 * a `client_secret_basic` client, a `client_secret_post` client and a public client.
 * Access tokens are JWTs (through the resource-indicators feature), like Cognito's.
 */

/** Client id and secret of the test clients. */
export const BASIC_CLIENT = { clientId: 'basic-client', clientSecret: 'basic-secret-Zx81kQ2' } as const;
export const POST_CLIENT = { clientId: 'post-client', clientSecret: 'post-secret-Pw93mR7' } as const;
export const PUBLIC_CLIENT = { clientId: 'public-client' } as const;

/** Resource-server scopes the confidential clients may ask for (Cognito's `{resourceServerId}/{scope}` form). */
export const RESOURCE_SCOPES = ['orders/read', 'orders/write'] as const;
/** A scope the server knows but no client is allowed to ask for: requesting it gives `invalid_scope`. */
export const FORBIDDEN_SCOPE = 'admin/all';

const RESOURCE = 'urn:test:orders-api';

export interface OidcProviderOptions {
  /** Lifetime of access and ID tokens in seconds. Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Issue a new refresh token on every refresh (Cognito's refresh token rotation). Default false. */
  rotateRefreshToken?: boolean;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:{port}`: use it as the client's `domain`. */
  readonly origin: string;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint: string;
  /** Requests answered by the token endpoint, by `grant_type`. */
  tokenRequests(grantType?: 'refresh_token' | 'client_credentials'): number;
  /** Requests answered by the revocation endpoint. */
  readonly revocationRequests: number;
  /** Lifetime of the access tokens issued from now on. */
  setAccessTokenTtl(seconds: number): void;
  /**
   * A real refresh token for `clientId`, made through the provider's own Grant and RefreshToken
   * models, as if the user had signed in (no browser login needed).
   */
  issueRefreshToken(clientId: string, accountId?: string): Promise<string>;
  close(): Promise<void>;
}

// Just the parts of oidc-provider (which ships no types) that this helper touches.
interface ProviderModel {
  save(): Promise<string>;
}
interface GrantModel extends ProviderModel {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
}
interface Provider {
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  Client: { find(clientId: string): Promise<unknown> };
  Grant: new (fields: { accountId: string; clientId: string }) => GrantModel;
  RefreshToken: new (fields: Record<string, unknown>) => ProviderModel;
  on(event: string, listener: (...args: unknown[]) => void): void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
}
interface KoaContext {
  path: string;
  oidc?: { params?: { grant_type?: unknown } };
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => Provider;

async function loadProvider(): Promise<ProviderClass> {
  // A specifier held in a variable keeps tsc from asking for type declarations this package lacks.
  const specifier = 'oidc-provider';
  const module = (await import(specifier)) as { default: ProviderClass };
  return module.default;
}

function clientMetadata(
  client: { clientId: string; clientSecret?: string },
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'none',
): Record<string, unknown> {
  const confidential = authMethod !== 'none';
  return {
    client_id: client.clientId,
    ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }),
    token_endpoint_auth_method: authMethod,
    grant_types: confidential
      ? ['authorization_code', 'refresh_token', 'client_credentials']
      : ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['https://app.example.test/callback'],
    scope: ['openid', 'offline_access', ...RESOURCE_SCOPES].join(' '),
  };
}

/**
 * Start oidc-provider on a random loopback port.
 *
 * ```ts
 * const op = await startOidcProvider();
 * const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
 * const tokens = await client.refresh(await op.issueRefreshToken(BASIC_CLIENT.clientId));
 * await op.close();
 * ```
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const ProviderClass = await loadProvider();
  let accessTokenTtl = options.accessTokenTtlSeconds ?? 3600;
  const tokenCounts = new Map<string, number>();
  let revocationCount = 0;

  // The issuer names the port, so the server listens before the provider exists: a request that
  // arrives in between waits for the provider instead of meeting an undefined handler (which threw
  // inside the server and left that request unanswered).
  let ready!: (handler: (request: IncomingMessage, response: ServerResponse) => void) => void;
  const handler = new Promise<(request: IncomingMessage, response: ServerResponse) => void>((resolve) => {
    ready = resolve;
  });
  const server = createServer((request, response) => {
    void handler.then((handle) => handle(request, response));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const key = generateKeyPair({ kid: 'test-op-key' });
  const provider = new ProviderClass(origin, {
    clients: [
      clientMetadata(BASIC_CLIENT, 'client_secret_basic'),
      clientMetadata(POST_CLIENT, 'client_secret_post'),
      clientMetadata(PUBLIC_CLIENT, 'none'),
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    jwks: { keys: [{ ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' }] },
    findAccount: (_ctx: unknown, accountId: string) => ({
      accountId,
      claims: () => ({ sub: accountId }),
    }),
    scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES, FORBIDDEN_SCOPE],
    routes: { token: '/oauth2/token', revocation: '/oauth2/revoke' },
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: RESOURCE_SCOPES.join(' '),
          accessTokenFormat: 'jwt',
          accessTokenTTL: accessTokenTtl,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: {
      AccessToken: () => accessTokenTtl,
      ClientCredentials: () => accessTokenTtl,
      IdToken: () => accessTokenTtl,
      RefreshToken: 30 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      Session: 3600,
      Interaction: 600,
      AuthorizationCode: 60,
    },
  });
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server_error', error);
  });
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.path === '/oauth2/revoke') revocationCount++;
      if (ctx.path === '/oauth2/token') {
        for (const counter of [String(ctx.oidc?.params?.grant_type ?? 'unknown'), '*']) {
          tokenCounts.set(counter, (tokenCounts.get(counter) ?? 0) + 1);
        }
      }
    }
  });
  ready(provider.callback());

  return {
    origin,
    tokenEndpoint: `${origin}/oauth2/token`,
    revocationEndpoint: `${origin}/oauth2/revoke`,
    tokenRequests: (grantType) => tokenCounts.get(grantType ?? '*') ?? 0,
    get revocationRequests() {
      return revocationCount;
    },
    setAccessTokenTtl(seconds) {
      accessTokenTtl = seconds;
    },
    async issueRefreshToken(clientId, accountId = randomUUID()) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`no test client ${clientId}`);
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid offline_access');
      grant.addResourceScope(RESOURCE, RESOURCE_SCOPES.join(' '));
      const grantId = await grant.save();
      const refreshToken = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        gty: 'authorization_code',
        scope: ['openid', 'offline_access', ...RESOURCE_SCOPES].join(' '),
        resource: RESOURCE,
        authTime: Math.floor(Date.now() / 1000),
        expiresWithSession: false,
      });
      return refreshToken.save();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

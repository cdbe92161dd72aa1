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

/** A user of the Cognito-like provider: who signs in at the next authorization request. */
export interface CognitoTestUser {
  sub: string;
  username?: string;
  email?: string;
  groups?: readonly string[];
}

export interface CognitoProviderOptions {
  /** The pool id in the issuer path: `http://127.0.0.1:{port}/{userPoolId}`. Default `eu-west-1_SignIn1`. */
  userPoolId?: string;
  /** The app client. Default `web-client` with a secret (client_secret_basic). */
  clientId?: string;
  clientSecret?: string;
  /** The app client's callback URLs (`redirect_uri` must be one of them). */
  callbackUrls: readonly string[];
  /** The app client's sign-out URLs (`logout_uri` of `/logout` must be one of them). */
  signOutUrls: readonly string[];
  /** Lifetime of access and ID tokens, seconds. Default 3600. */
  tokenTtlSeconds?: number;
  /** Issue a new refresh token at each refresh (Cognito's rotation). Default true. */
  rotateRefreshToken?: boolean;
  /** Whether a refresh gives the tokens a new `origin_jti` (unconfirmed for Cognito: test both). Default false. */
  newOriginJtiOnRefresh?: boolean;
  /** The provider's own listener: TLS options make it https. */
  tls?: { key: string; cert: string };
}

export interface TestCognitoProvider {
  /** `http(s)://127.0.0.1:{port}`: the user pool domain (managed login, `/oauth2/*`, `/logout`). */
  readonly origin: string;
  /** `{origin}/{userPoolId}`: the `iss` of every token. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The user the next authorization request signs in (no form: the interaction finishes at once). */
  signInAs(user: CognitoTestUser): void;
  setTokenTtl(seconds: number): void;
  /** Requests answered, by route: `token:authorization_code`, `token:refresh_token`, `revoke`, `logout`, `authorize`. */
  count(route: string): number;
  /** The last `/logout` query, as received. */
  readonly lastLogout: URLSearchParams | undefined;
  /** The ID token's nonce of the next code exchange is replaced by this (an attacker's ID token). */
  forgeNextNonce(nonce: string): void;
  close(): Promise<void>;
}

/**
 * oidc-provider made to behave like a Cognito user pool for browser sign-in: the issuer is
 * `{origin}/{userPoolId}`, the keys at `{issuer}/.well-known/jwks.json`; `/oauth2/authorize`,
 * `/oauth2/token` (authorization_code with PKCE, refresh_token with rotation), `/oauth2/revoke`;
 * ID tokens with `token_use: 'id'`, `cognito:groups`, `cognito:username`, `email`, `origin_jti`
 * and the nonce; JWT access tokens with `token_use: 'access'`, `client_id`, `username`,
 * `cognito:groups`, `scope` and `origin_jti`; a refresh token on every code exchange; and a
 * Cognito-style `GET /logout?client_id=…&logout_uri=…` that ends the managed-login session and
 * redirects to one of the client's sign-out URLs. Sign-in needs no form: the user set by
 * `signInAs` is signed in when the browser reaches the interaction.
 */
export async function startCognitoProvider(options: CognitoProviderOptions): Promise<TestCognitoProvider> {
  const ProviderClass = await loadProvider();
  const userPoolId = options.userPoolId ?? 'eu-west-1_SignIn1';
  const clientId = options.clientId ?? 'web-client';
  const clientSecret = options.clientSecret ?? 'web-client-secret-Hq71xP';
  let tokenTtl = options.tokenTtlSeconds ?? 3600;
  let nextUser: CognitoTestUser = { sub: randomUUID(), groups: ['users'] };
  const users = new Map<string, CognitoTestUser>();
  const counts = new Map<string, number>();
  const bump = (route: string) => counts.set(route, (counts.get(route) ?? 0) + 1);
  const originJtis = new Map<string, string>();
  const refreshedIn = new WeakSet<object>();
  let lastLogout: URLSearchParams | undefined;
  let forgedNonce: string | undefined;

  let ready!: (handler: (request: IncomingMessage, response: ServerResponse) => void) => void;
  const handler = new Promise<(request: IncomingMessage, response: ServerResponse) => void>((resolve) => {
    ready = resolve;
  });
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    void handler.then((handle) => handle(request, response));
  };
  const server = options.tls
    ? (await import('node:https')).createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${origin}/${userPoolId}`;

  /** The session's origin_jti: one per grant, new at each refresh when asked to. */
  const originJtiOf = (ctx: object, grantId: string | undefined, refreshing: boolean): string | undefined => {
    if (grantId === undefined) return undefined;
    if (refreshing && options.newOriginJtiOnRefresh === true && !refreshedIn.has(ctx)) {
      refreshedIn.add(ctx);
      originJtis.set(grantId, randomUUID());
    }
    let value = originJtis.get(grantId);
    if (value === undefined) {
      value = randomUUID();
      originJtis.set(grantId, value);
    }
    return value;
  };
  const isRefresh = (ctx: unknown) =>
    (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type === 'refresh_token';

  const key = generateKeyPair({ kid: 'cognito-like-key' });
  const provider = new ProviderClass(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [...options.callbackUrls],
        scope: ['openid', 'email', 'profile', ...RESOURCE_SCOPES].join(' '),
      },
    ],
    clientAuthMethods: ['client_secret_basic'],
    jwks: { keys: [{ ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' }] },
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      revocation: '/oauth2/revoke',
      jwks: `/${userPoolId}/.well-known/jwks.json`,
      userinfo: '/oauth2/userInfo',
    },
    scopes: ['openid', 'email', 'profile', ...RESOURCE_SCOPES],
    claims: {
      openid: ['sub', 'token_use', 'cognito:groups', 'cognito:username', 'origin_jti', 'event_id'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    findAccount: (ctx: object, accountId: string, source?: { grantId?: string }) => ({
      accountId,
      claims: () => {
        const user = users.get(accountId) ?? { sub: accountId };
        return {
          sub: accountId,
          token_use: 'id',
          'cognito:username': user.username ?? accountId,
          ...(user.groups === undefined ? {} : { 'cognito:groups': [...user.groups] }),
          ...(user.email === undefined ? {} : { email: user.email, email_verified: true }),
          origin_jti: originJtiOf(ctx, source?.grantId, isRefresh(ctx)),
          event_id: randomUUID(),
        };
      },
    }),
    extraTokenClaims: (ctx: object, token: { accountId?: string; grantId?: string; clientId?: string }) => {
      const user = token.accountId === undefined ? undefined : users.get(token.accountId);
      return {
        token_use: 'access',
        client_id: token.clientId ?? clientId,
        username: user?.username ?? token.accountId,
        ...(user?.groups === undefined ? {} : { 'cognito:groups': [...user.groups] }),
        origin_jti: originJtiOf(ctx, token.grantId, isRefresh(ctx)),
      };
    },
    loadExistingGrant: async (ctx: {
      oidc: {
        client: { clientId: string };
        session: { accountId: string; grantIdFor(id: string): string | undefined };
        provider: Provider;
      };
    }) => {
      const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      const { Grant } = ctx.oidc.provider as unknown as {
        Grant: { find(id: string): Promise<GrantModel> } & Provider['Grant'];
      };
      if (existing) {
        const found = await Grant.find(existing);
        if (found) return found;
      }
      // First-party app: no consent screen, like Cognito's managed login.
      const grant = new Grant({ accountId: ctx.oidc.session.accountId, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope('openid email profile');
      grant.addResourceScope(RESOURCE, RESOURCE_SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    issueRefreshToken: () => true,
    expiresWithSession: () => false,
    rotateRefreshToken: options.rotateRefreshToken ?? true,
    pkce: { required: () => true },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: RESOURCE_SCOPES.join(' '),
          accessTokenFormat: 'jwt',
          accessTokenTTL: tokenTtl,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: {
      AccessToken: () => tokenTtl,
      IdToken: () => tokenTtl,
      RefreshToken: 30 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      Session: 3600,
      Interaction: 600,
      AuthorizationCode: 300,
    },
  });
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server_error', error);
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/oauth2/token') bump(`token:${String(ctx.oidc?.params?.grant_type ?? 'unknown')}`);
    if (ctx.path === '/oauth2/revoke') bump('revoke');
    if (ctx.path === '/oauth2/authorize') bump('authorize');
    const body = (ctx as unknown as { body?: unknown }).body;
    if (
      ctx.path === '/oauth2/token' &&
      forgedNonce !== undefined &&
      typeof body === 'object' &&
      body !== null
    ) {
      // Re-sign the ID token with another nonce: what an ID token from another sign-in looks like.
      const fields = body as { id_token?: string };
      if (typeof fields.id_token === 'string') {
        const [header, payload] = fields.id_token.split('.');
        const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        claims.nonce = forgedNonce;
        forgedNonce = undefined;
        const { createSign } = await import('node:crypto');
        const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        const signature = createSign('sha256').update(input).sign(key.privateKey).toString('base64url');
        fields.id_token = `${input}.${signature}`;
      }
    }
  });
  const handle = provider.callback();
  ready(async (request, response) => {
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname.startsWith('/interaction/')) {
      // The managed-login form, filled in at once by the user of signInAs.
      const user = nextUser;
      users.set(user.sub, user);
      try {
        await (
          provider as unknown as {
            interactionFinished(
              req: IncomingMessage,
              res: ServerResponse,
              result: unknown,
              options: unknown,
            ): Promise<void>;
          }
        ).interactionFinished(
          request,
          response,
          { login: { accountId: user.sub } },
          { mergeWithLastSubmission: false },
        );
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
      return;
    }
    if (url.pathname === '/logout' && request.method === 'GET') {
      bump('logout');
      lastLogout = url.searchParams;
      const logoutUri = url.searchParams.get('logout_uri');
      if (
        url.searchParams.get('client_id') !== clientId ||
        logoutUri === null ||
        !options.signOutUrls.includes(logoutUri)
      ) {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid logout request');
        return;
      }
      // Ends the managed-login session: its cookies go, the next sign-in signs in again.
      response.writeHead(302, {
        location: logoutUri,
        'set-cookie': ['_session=; Path=/; Max-Age=0', '_session.sig=; Path=/; Max-Age=0'],
      });
      response.end();
      return;
    }
    handle(request, response);
  });

  return {
    origin,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    userPoolId,
    clientId,
    clientSecret,
    signInAs(user) {
      nextUser = user;
    },
    setTokenTtl(seconds) {
      tokenTtl = seconds;
    },
    count: (route) => counts.get(route) ?? 0,
    get lastLogout() {
      return lastLogout;
    },
    forgeNextNonce(nonce) {
      forgedNonce = nonce;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

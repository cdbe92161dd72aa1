/**
 * The official MCP TypeScript SDK's client (`@modelcontextprotocol/sdk`) against an API that
 * publishes protected-resource metadata: its discovery, and its `auth()` flow up to the authorize
 * redirect, with a pre-registered client. The pool is a real-shaped Cognito pool id
 * (`eu-west-1_McpPool1`), so the authorization server the API names is derived from it as for a
 * real pool; the SDK's fetch sends the pool's issuer host to a loopback stand-in that serves a
 * discovery document shaped like Cognito's (no `code_challenge_methods_supported`, no
 * `registration_endpoint`) at the same path. Nothing leaves the machine: any other host fails.
 *
 * ```ts
 * const cognito = await startCognitoStandIn();
 * await checkMcpClient({ serverUrl: `${origin}/mcp`, cognito, narrowToken });
 * await cognito.close();
 * ```
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  discoverOAuthServerInfo,
  extractResourceMetadataUrl,
  extractWWWAuthenticateParams,
  type OAuthClientProvider,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { protectedResourceMetadataUrl } from '../../src/adapters/protected-resource.ts';
import { buildJwks, generateKeyPair, mintAccessToken, type TestKeyPair } from '../../src/testing/index.ts';
import { listen, type RunningApp } from './adapter-suite.ts';

export const MCP_POOL = 'eu-west-1_McpPool1';
/** The issuer Cognito gives that pool: what the API must name as its authorization server. */
export const MCP_ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${MCP_POOL}`;
/** The pool's managed-login domain, where its discovery document puts the endpoints. */
export const MCP_DOMAIN = 'https://mcp-demo.auth.eu-west-1.amazoncognito.com';
/** The app client registered in the pool for the MCP client (a public client: no secret). */
export const MCP_CLIENT = 'mcpclient1234567890abcdef';
export const MCP_SCOPE = 'mcp/tools';
const REDIRECT_URL = 'http://127.0.0.1:33418/callback';

/** The pool's signing key and a verifier config that needs no network (the keys as a snapshot). */
export function mcpPool(): {
  key: TestKeyPair;
  config: { userPoolId: string; clientId: string; tokenUse: 'access'; jwks: ReturnType<typeof buildJwks> };
  token(scope: string): string;
} {
  const key = generateKeyPair();
  return {
    key,
    config: { userPoolId: MCP_POOL, clientId: MCP_CLIENT, tokenUse: 'access', jwks: buildJwks(key) },
    token: (scope) => mintAccessToken({ key, userPoolId: MCP_POOL, clientId: MCP_CLIENT, scope }),
  };
}

/** Cognito's discovery document for the pool, as Cognito serves it (endpoints on the domain). */
export function cognitoDiscoveryDocument(): Record<string, unknown> {
  return {
    authorization_endpoint: `${MCP_DOMAIN}/oauth2/authorize`,
    end_session_endpoint: `${MCP_DOMAIN}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer: MCP_ISSUER,
    jwks_uri: `${MCP_ISSUER}/.well-known/jwks.json`,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${MCP_DOMAIN}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${MCP_DOMAIN}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${MCP_DOMAIN}/oauth2/userInfo`,
  };
}

export interface CognitoStandIn extends RunningApp {
  /** Paths asked for, in order. */
  readonly requests: string[];
  /** A fetch for the SDK: the pool's issuer host goes to the stand-in, loopback passes, anything else fails. */
  readonly fetch: FetchLike;
}

/** The pool's issuer host on loopback: only the discovery document's path answers, as at Cognito. */
export async function startCognitoStandIn(): Promise<CognitoStandIn> {
  const requests: string[] = [];
  const running = await listen(
    createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.method === 'GET' && request.url === `/${MCP_POOL}/.well-known/openid-configuration`) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(cognitoDiscoveryDocument()));
        return;
      }
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"code":"NotFound"}');
    }),
  );
  const issuerHost = new URL(MCP_ISSUER).host;
  const routed: FetchLike = (url, init) => {
    const target = new URL(String(url));
    if (target.host === issuerHost) {
      return fetch(`${running.origin}${target.pathname}${target.search}`, init);
    }
    if (target.hostname !== '127.0.0.1') {
      return Promise.reject(new Error(`the test would leave the machine: ${target.href}`));
    }
    return fetch(target, init);
  };
  return { ...running, requests, fetch: routed };
}

/** An MCP client's OAuth state with a client registered in the pool beforehand (Cognito has no DCR). */
export class PreRegisteredClient implements OAuthClientProvider {
  readonly redirects: URL[] = [];
  #verifier: string | undefined;
  #tokens: OAuthTokens | undefined;

  constructor(accessToken?: string) {
    if (accessToken !== undefined) {
      this.#tokens = { access_token: accessToken, token_type: 'Bearer', issuer: MCP_ISSUER };
    }
  }

  get redirectUrl(): string {
    return REDIRECT_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'cognito-jwt test client',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  // Bound to the pool's issuer: the SDK presents it to no other authorization server.
  clientInformation(): OAuthClientInformationMixed {
    return { client_id: MCP_CLIENT, issuer: MCP_ISSUER };
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.redirects.push(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    assert.ok(this.#verifier, 'no code verifier saved');
    return this.#verifier;
  }
}

/** Connect the SDK's client through Streamable HTTP; it must stop at the authorize redirect. */
async function connectUntilRedirect(serverUrl: string, provider: PreRegisteredClient, fetchFn: FetchLike) {
  const client = new Client({ name: 'cognito-jwt-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    authProvider: provider,
    fetch: fetchFn,
  });
  await assert.rejects(client.connect(transport), UnauthorizedError);
  await client.close().catch(() => undefined);
  assert.equal(provider.redirects.length, 1, 'one redirect to the authorization endpoint');
  return provider.redirects[0]!;
}

/** The authorize URL is Cognito's, with PKCE S256 over the saved verifier and the resource. */
function checkAuthorizeUrl(url: URL, provider: PreRegisteredClient, resource: string, scope: string): void {
  assert.equal(`${url.origin}${url.pathname}`, `${MCP_DOMAIN}/oauth2/authorize`);
  const params = url.searchParams;
  assert.equal(params.get('response_type'), 'code');
  assert.equal(params.get('client_id'), MCP_CLIENT);
  assert.equal(params.get('redirect_uri'), REDIRECT_URL);
  assert.equal(params.get('code_challenge_method'), 'S256');
  const challenge = createHash('sha256').update(provider.codeVerifier()).digest('base64url');
  assert.equal(params.get('code_challenge'), challenge, 'the challenge is S256 of the saved verifier');
  assert.equal(params.get('resource'), resource, 'RFC 8707: the resource the token is to be bound to');
  assert.equal(params.get('scope'), scope);
}

export interface McpClientCheck {
  /** Where the MCP client posts (`{origin}/mcp`): the resource itself. */
  serverUrl: string;
  cognito: CognitoStandIn;
  /** A valid token of the pool without `mcp/tools`, with scope `openid`. */
  narrowToken: string;
  /** The scopes the metadata lists; default `[MCP_SCOPE]`. */
  scopes?: string[];
}

/**
 * What an MCP client does, step by step with the SDK's discovery functions, then as a whole
 * through its Streamable HTTP transport: the 401 leads to the metadata, the metadata to the pool's
 * issuer, the issuer's discovery document to Cognito's authorize endpoint; a token without the
 * scope gets a 403 whose `scope` the client asks for.
 */
export async function checkMcpClient(check: McpClientCheck): Promise<void> {
  const { serverUrl, cognito, narrowToken } = check;
  const resource = serverUrl;
  const scopes = check.scopes ?? [MCP_SCOPE];
  const expectedMetadataUrl = protectedResourceMetadataUrl(resource);

  // 1. A request without a token: 401 naming the metadata.
  const refused = await fetch(serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await refused.body?.cancel();
  assert.equal(refused.status, 401);
  const challenge = extractWWWAuthenticateParams(refused);
  assert.equal(challenge.resourceMetadataUrl?.href, expectedMetadataUrl);
  assert.equal(challenge.error, undefined, 'no error code without a token (RFC 6750 §3.1)');
  assert.equal(extractResourceMetadataUrl(refused)?.href, expectedMetadataUrl);

  // 2. The metadata, from the 401's URL and by the path-aware well-known probe alike.
  for (const metadata of [
    await discoverOAuthProtectedResourceMetadata(serverUrl, {
      resourceMetadataUrl: challenge.resourceMetadataUrl!,
    }),
    await discoverOAuthProtectedResourceMetadata(serverUrl),
  ]) {
    assert.equal(metadata.resource, resource);
    assert.deepEqual(metadata.authorization_servers, [MCP_ISSUER]);
    assert.deepEqual(metadata.scopes_supported, scopes);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
  }

  // 3. The authorization server: the pool's issuer, its OpenID discovery document found where Cognito serves it.
  cognito.requests.length = 0;
  const info = await discoverOAuthServerInfo(serverUrl, {
    resourceMetadataUrl: challenge.resourceMetadataUrl!,
    fetchFn: cognito.fetch,
  });
  assert.equal(info.authorizationServerUrl, MCP_ISSUER);
  assert.equal(info.authorizationServerMetadata?.authorization_endpoint, `${MCP_DOMAIN}/oauth2/authorize`);
  assert.equal(info.authorizationServerMetadata?.code_challenge_methods_supported, undefined);
  assert.equal(info.authorizationServerMetadata?.registration_endpoint, undefined);
  assert.deepEqual(cognito.requests, [
    `/.well-known/oauth-authorization-server/${MCP_POOL}`,
    `/.well-known/openid-configuration/${MCP_POOL}`,
    `/${MCP_POOL}/.well-known/openid-configuration`,
  ]);
  const direct = await discoverAuthorizationServerMetadata(MCP_ISSUER, { fetchFn: cognito.fetch });
  assert.equal(direct?.issuer, MCP_ISSUER);

  // 4. The whole flow through the transport: 401 → discovery → auth() → the authorize redirect.
  const fresh = new PreRegisteredClient();
  const url = await connectUntilRedirect(serverUrl, fresh, cognito.fetch);
  checkAuthorizeUrl(url, fresh, resource, scopes.join(' '));

  // 5. A valid token without the scope: 403 insufficient_scope with `scope`; the client asks for it.
  const narrow = new PreRegisteredClient(narrowToken);
  const upscoped = await connectUntilRedirect(serverUrl, narrow, cognito.fetch);
  checkAuthorizeUrl(upscoped, narrow, resource, `openid ${MCP_SCOPE}`);
}

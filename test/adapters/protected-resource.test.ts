import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { cognitoAuth as expressAuth, httpErrorResponse } from '../../src/adapters/express.ts';
import { cognitoJwt } from '../../src/adapters/fastify.ts';
import { cognitoAuth as honoAuth } from '../../src/adapters/hono.ts';
import { protectedResource, protectedResourceMetadataUrl } from '../../src/adapters/protected-resource.ts';
import { AlbVerifier } from '../../src/alb/verifier.ts';
import {
  authorize,
  CognitoJwtError,
  CognitoVerifier,
  requireScopes,
  ScopeMissingError,
} from '../../src/index.ts';
import { discoveryIssuers, poolIssuers } from '../../src/pool/issuers.ts';
import { parseBearerChallenge } from '../helpers/adapter-suite.ts';

const config = { userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' } as const;
const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
const RESOURCE = 'https://api.example.com/mcp';

describe('where the metadata lives (RFC 9728 §3.1)', () => {
  test('the well-known segment goes between the host and the path', () => {
    assert.equal(
      protectedResourceMetadataUrl('https://api.example.com/mcp'),
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    );
    assert.equal(
      protectedResourceMetadataUrl('https://api.example.com:8443/tenants/a/mcp'),
      'https://api.example.com:8443/.well-known/oauth-protected-resource/tenants/a/mcp',
    );
    for (const root of ['https://api.example.com', 'https://api.example.com/']) {
      assert.equal(
        protectedResourceMetadataUrl(root),
        'https://api.example.com/.well-known/oauth-protected-resource',
      );
    }
  });

  test('the resource is kept exactly as written (a token bound to it must match it)', () => {
    const described = protectedResource({ resource: 'https://api.example.com' }, [ISSUER], 'x');
    assert.equal(described.metadata.resource, 'https://api.example.com');
    assert.equal(described.path, '/.well-known/oauth-protected-resource');
  });
});

describe('authorization_servers', () => {
  test('a pool is named once, by the issuer its discovery document names (the multi-Region form left out)', () => {
    assert.deepEqual(discoveryIssuers(poolIssuers('eu-west-1_AbC123')), [ISSUER]);
    assert.deepEqual(discoveryIssuers(poolIssuers('cn-north-1_AbC123')), [
      'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123',
    ]);
    const alone = 'https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123';
    assert.deepEqual(
      discoveryIssuers([alone, alone]),
      [alone],
      'kept when it is the only form; duplicates dropped',
    );
    assert.deepEqual(discoveryIssuers(['http://127.0.0.1:9229/local_x']), ['http://127.0.0.1:9229/local_x']);
  });

  test('derived from the verifier config, a config list, or a CognitoVerifier; explicit servers win', async () => {
    const issuersOf = (verifier: unknown, extra: Record<string, unknown> = {}) =>
      publishedServers({ verifier, protectedResource: { resource: RESOURCE, ...extra } });
    assert.deepEqual(await issuersOf(config), [ISSUER]);
    assert.deepEqual(await issuersOf([config, { ...config, userPoolId: 'us-east-1_Other1' }]), [
      ISSUER,
      'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1',
    ]);
    assert.deepEqual(
      await issuersOf(new CognitoVerifier({ ...config, issuer: 'http://127.0.0.1:9229/local_x' })),
      ['http://127.0.0.1:9229/local_x'],
    );
    assert.deepEqual(await issuersOf(config, { authorizationServers: ['https://auth.example.com'] }), [
      'https://auth.example.com',
    ]);
  });

  test('a verifier that is not ours needs them named', async () => {
    const custom = { verify: async () => ({}) as never };
    assert.throws(
      () => expressAuth({ verifier: custom, protectedResource: { resource: RESOURCE } }),
      /authorizationServers is required/,
    );
    assert.deepEqual(
      await publishedServers({
        verifier: custom,
        protectedResource: { resource: RESOURCE, authorizationServers: [ISSUER] },
      }),
      [ISSUER],
    );
  });
});

/** The authorization servers the Hono adapter publishes for these options (read from its document). */
async function publishedServers(options: Record<string, unknown>): Promise<string[]> {
  const app = new Hono();
  app.use(honoAuth(options as never).resourceMetadata());
  const response = await app.request(new URL(protectedResourceMetadataUrl(RESOURCE)).pathname);
  assert.equal(response.status, 200);
  return ((await response.json()) as { authorization_servers: string[] }).authorization_servers;
}

describe('options are checked when the adapter is created', () => {
  const refuse = (protectedResourceOptions: unknown, pattern: RegExp) =>
    assert.throws(
      () => expressAuth({ verifier: config, protectedResource: protectedResourceOptions as never }),
      pattern,
    );

  test('resource: https (http on loopback only), no query, fragment, credentials or trailing slash after a path', () => {
    refuse({ resource: 'http://api.example.com/mcp' }, /must use https:/);
    refuse({ resource: 'https://api.example.com/mcp?tenant=a' }, /must not have a query/);
    refuse({ resource: 'https://api.example.com/mcp#x' }, /must not have a fragment/);
    refuse({ resource: 'https://user:pw@api.example.com/mcp' }, /must not carry credentials/);
    refuse({ resource: 'https://api.example.com/mcp/' }, /must not end with "\/"/);
    refuse({ resource: 'api.example.com/mcp' }, /is not a valid URL/);
    refuse({}, /resource must be a URL string/);
    refuse('https://api.example.com/mcp', /must be an object/);
    assert.ok(
      expressAuth({ verifier: config, protectedResource: { resource: 'http://127.0.0.1:3000/mcp' } }),
    );
  });

  test('scopes are scope tokens; names and documentation are checked', () => {
    refuse({ resource: RESOURCE, scopes: ['mcp tools'] }, /is not a scope/);
    refuse({ resource: RESOURCE, scopes: ['a"b'] }, /is not a scope/);
    refuse({ resource: RESOURCE, scopes: [] }, /non-empty/);
    refuse({ resource: RESOURCE, resourceName: '' }, /resourceName must be a non-empty string/);
    refuse({ resource: RESOURCE, resourceDocumentation: 'http://docs.example.com' }, /must use https:/);
    refuse({ resource: RESOURCE, authorizationServers: ['http://auth.example.com'] }, /must use https:/);
    refuse({ resource: RESOURCE, issuer: ISSUER }, /authorizationServers/);
  });

  test('not with loadBalancer: the load balancer signs users in, clients bring no token', () => {
    const loadBalancer = new AlbVerifier({
      albArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef',
      issuer: ISSUER,
      clientId: 'c',
    });
    assert.throws(
      () => expressAuth({ verifier: config, loadBalancer, protectedResource: { resource: RESOURCE } }),
      /with loadBalancer/,
    );
  });

  test('resourceMetadata() without the option says what is missing', () => {
    assert.throws(
      () => expressAuth({ verifier: config }).resourceMetadata(),
      /needs the protectedResource option/,
    );
    assert.throws(
      () => honoAuth({ verifier: config }).resourceMetadata(),
      /needs the protectedResource option/,
    );
  });

  test('Fastify: the plugin serves the path itself, so it refuses a prefix', async () => {
    const app = Fastify();
    try {
      await assert.rejects(async () => {
        await app.register(
          async (scope) => {
            await scope.register(cognitoJwt, { verifier: config, protectedResource: { resource: RESOURCE } });
          },
          { prefix: '/api' },
        );
        await app.ready();
      }, /register it where the prefix is empty/);
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});

describe('challenges with resourceMetadata', () => {
  const url = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';

  test('401 without a token: realm and resource_metadata only', () => {
    const answer = httpErrorResponse(new CognitoJwtError('ERR_TOKEN_MISSING', 'none'), {
      realm: 'mcp',
      resourceMetadata: url,
    });
    assert.equal(answer?.headers['www-authenticate'], `Bearer realm="mcp", resource_metadata="${url}"`);
  });

  test('403 for a missing scope: the token scopes, then the required ones; scope tokens outside RFC 6749 left out', async () => {
    let error: unknown;
    try {
      await authorize({ token_use: 'access', scope: 'openid mcp/read mcp/write', client_id: 'c' } as never, [
        requireScopes(['mcp/write', 'mcp/admin'], { match: 'all' }),
      ]);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ScopeMissingError);
    assert.equal(error.code, 'ERR_SCOPE_MISSING');
    assert.deepEqual(error.required, ['mcp/write', 'mcp/admin']);
    const challenge = parseBearerChallenge(
      httpErrorResponse(error, { resourceMetadata: url })!.headers['www-authenticate']!,
    );
    assert.equal(challenge.error, 'insufficient_scope');
    assert.equal(challenge.scope, 'openid mcp/read mcp/write mcp/admin');
    assert.equal(challenge.resource_metadata, url);
    const odd = new ScopeMissingError('x', ['mcp/tools'], ['é', 'a\\b', 'openid']);
    assert.equal(
      parseBearerChallenge(httpErrorResponse(odd, { resourceMetadata: url })!.headers['www-authenticate']!)
        .scope,
      'openid mcp/tools',
    );
  });

  test('a group refusal names no scope; without resourceMetadata no 403 names one (unchanged)', () => {
    const group = httpErrorResponse(new CognitoJwtError('ERR_GROUP_MISSING', 'x'), {
      resourceMetadata: url,
    })!;
    assert.doesNotMatch(group.headers['www-authenticate']!, /scope="/);
    const scope = httpErrorResponse(new ScopeMissingError('x', ['mcp/tools'], []))!;
    assert.equal(
      scope.headers['www-authenticate'],
      'Bearer error="insufficient_scope", error_description="the token lacks a required scope"',
    );
  });

  test('a resource_metadata value that would break the header is refused', () => {
    assert.throws(
      () => httpErrorResponse(new CognitoJwtError('ERR_TOKEN_MISSING', 'x'), { resourceMetadata: 'a"b' }),
      /printable ASCII/,
    );
  });
});

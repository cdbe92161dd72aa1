// Every options object of the public API refuses, at construction, a key it does not know: a
// misspelt one is named with the closest known key, a misplaced one with where it belongs. Each
// call below is written as plain JavaScript would write it (cast through `never`): no compiler
// stands between the caller and the run-time check.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { bearerToken, cognitoAuth as expressAuth, httpErrorResponse } from '../src/adapters/express.ts';
import { cognitoJwt } from '../src/adapters/fastify.ts';
import { cognitoAuth as honoAuth } from '../src/adapters/hono.ts';
import {
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
} from '../src/adapters/lambda.ts';
import { CognitoJwtError } from '../src/errors.ts';
import { CognitoVerifier, decodeUnverified, JwksCache, requireGroups, requireScopes } from '../src/index.ts';
import { TokenEndpointClient, TokenSession } from '../src/oauth/index.ts';
import { closestName } from '../src/options.ts';
import {
  buildJwks,
  generateAlbKeyPair,
  generateKeyPair,
  mintAccessToken,
  mintAlbToken,
  mintClientCredentialsToken,
  mintIdToken,
  startAlbKeyServer,
  startJwksServer,
} from '../src/testing/index.ts';

type Options = Record<string, unknown>;

const config = { userPoolId: 'us-east-1_AbC123', clientId: 'client1', tokenUse: 'access' } as const;
const key = generateKeyPair();
const albKey = generateAlbKeyPair();
// A token endpoint on loopback, so that calls with valid options really go through.
const tokenEndpoint = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    request.url === '/oauth2/token'
      ? JSON.stringify({ access_token: 'issued', token_type: 'Bearer', expires_in: 3600 })
      : '{}',
  );
});
await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
after(() => new Promise((resolve) => tokenEndpoint.close(resolve)));
const client = new TokenEndpointClient({
  tokenEndpoint: `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/oauth2/token`,
  clientId: 'client1',
  clientSecret: 'secret',
});
const sessionTokens = {
  accessToken: mintAccessToken({ key }),
  idToken: mintIdToken({ key }),
  refreshToken: 'refresh-token',
};

/**
 * One public entry: `call` builds it with the valid options plus `extra`; `typo` is a misspelt key
 * (with the key it should suggest), `misplaced` a key that belongs elsewhere (with a fragment of
 * the advice), `wrongType` an option of the wrong type (with the words the message must hold).
 */
interface Entry {
  name: string;
  call: (extra: Options) => unknown;
  typo: [key: string, suggestion: string];
  misplaced: [key: string, advice: string];
  wrongType?: [key: string, value: unknown, words: string];
}

const entries: Entry[] = [
  {
    name: 'new CognitoVerifier(config, options)',
    call: (extra) => new CognitoVerifier(config, extra as never),
    typo: ['timeoutMS', 'timeoutMs'],
    misplaced: ['groups', 'it is part of the verifier config, so it belongs in the config'],
    wrongType: ['timeoutMs', '5000', 'timeoutMs must be a number, got a string'],
  },
  {
    name: 'new CognitoVerifier(config, { verifiedTokenCache })',
    call: (extra) => new CognitoVerifier(config, { verifiedTokenCache: extra as never }),
    typo: ['maxEntry', 'maxEntries'],
    misplaced: ['maxEntries ', 'did you mean "maxEntries"?'], // a trailing space: not a key, near one
  },
  {
    name: 'new CognitoVerifier(config) — the config',
    call: (extra) => new CognitoVerifier({ ...config, ...extra } as never),
    typo: ['group', 'groups'],
    misplaced: ['isRevoked', 'new CognitoVerifier(config, { isRevoked })'],
    wrongType: ['clockToleranceSeconds', '30', 'clockToleranceSeconds must be a number, got a string'],
  },
  {
    name: 'new JwksCache(options)',
    call: (extra) => new JwksCache(extra as never),
    typo: ['cooldownMS', 'cooldownMs'],
    misplaced: ['verifiedTokenCache', 'set it on the CognitoVerifier'],
    wrongType: ['offline', 'yes', 'offline must be true or false, got a string'],
  },
  {
    name: 'jwksCache.loadSnapshot(uri, jwks, options)',
    call: (extra) =>
      new JwksCache().loadSnapshot('https://example.com/jwks.json', buildJwks(key), extra as never),
    typo: ['pined', 'pinned'],
    misplaced: ['pinned ', 'did you mean "pinned"?'],
    wrongType: ['pinned', 'yes', 'pinned must be true or false, got a string'],
  },
  {
    name: 'decodeUnverified(token, options)',
    call: (extra) => decodeUnverified(mintAccessToken({ key }), extra as never),
    typo: ['maxTokenLenght', 'maxTokenLength'],
    misplaced: ['maxLength', '(known: maxTokenLength)'],
    wrongType: ['maxTokenLength', '4096', 'maxTokenLength must be a number, got a string'],
  },
  {
    name: 'bearerToken(header, options)',
    call: (extra) => bearerToken('Bearer abc', extra as never),
    typo: ['allowbaretoken', 'allowBareToken'],
    misplaced: ['realm', '(known: allowBareToken)'],
  },
  {
    name: 'httpErrorResponse(error, options)',
    call: (extra) => httpErrorResponse(new CognitoJwtError('ERR_TOKEN_EXPIRED', 'expired'), extra as never),
    typo: ['exposeErrorDetails', 'exposeErrorDetail'],
    misplaced: ['allowBareToken', '(known: realm, exposeErrorDetail, resourceMetadata)'],
  },
  {
    name: 'protectedResource of cognitoAuth() from cognito-jwt/express',
    call: (extra) =>
      expressAuth({
        verifier: config,
        protectedResource: { resource: 'https://api.example.com/mcp', ...extra },
      } as never),
    typo: ['scope', 'scopes'],
    misplaced: ['audience', "set the verifier's audience"],
    wrongType: ['scopes', 5, 'scopes must be a non-empty string or a non-empty array'],
  },
  {
    name: 'cognitoAuth() from cognito-jwt/express',
    call: (extra) => expressAuth({ verifier: config, ...extra } as never),
    typo: ['getTokn', 'getToken'],
    misplaced: ['userPoolId', 'belongs in the verifier config'],
    wrongType: ['credentialsRequired', 'false', 'credentialsRequired must be true or false, got a string'],
  },
  {
    name: 'cognitoJwt plugin from cognito-jwt/fastify',
    call: async (extra) => {
      const app = Fastify();
      try {
        await app.register(cognitoJwt, { verifier: config, prefix: '/api', ...extra } as never);
        await app.ready();
      } finally {
        await app.close();
      }
    },
    typo: ['credentialsRequried', 'credentialsRequired'],
    misplaced: ['jwksCache', 'pass verifier: new CognitoVerifier(config, { jwksCache })'],
    wrongType: ['global', 1, 'global must be true or false, got a number'],
  },
  {
    name: 'cognitoAuth() from cognito-jwt/hono',
    call: (extra) => honoAuth({ verifier: config, ...extra } as never),
    typo: ['forwardError', 'forwardErrors'],
    misplaced: ['groups', 'belongs in the verifier config'],
    wrongType: ['getToken', 'authorization', 'getToken must be a function, got a string'],
  },
  {
    name: 'createTokenAuthorizer()',
    call: (extra) => createTokenAuthorizer({ verifier: config, ...extra } as never),
    typo: ['rule', 'rules'],
    misplaced: ['getToken', 'use createRequestAuthorizer()'],
    wrongType: ['onError', 'console', 'onError must be a function, got a string'],
  },
  {
    name: 'createRequestAuthorizer()',
    call: (extra) => createRequestAuthorizer({ verifier: config, ...extra } as never),
    typo: ['getTokn', 'getToken'],
    misplaced: ['response', 'only createHttpApiAuthorizer()'],
  },
  {
    name: 'createHttpApiAuthorizer()',
    call: (extra) => createHttpApiAuthorizer({ verifier: config, ...extra } as never),
    typo: ['reponse', 'response'],
    misplaced: ['isRevoked', 'pass verifier: new CognitoVerifier(config, { isRevoked })'],
  },
  {
    name: 'new TokenEndpointClient(options)',
    call: (extra) =>
      new TokenEndpointClient({ domain: 'myapp.auth.us-east-1.amazoncognito.com', clientId: 'c', ...extra }),
    typo: ['timeoutMS', 'timeoutMs'],
    misplaced: ['userPoolId', 'set domain'],
    wrongType: ['timeoutMs', '100', 'timeoutMs must be a number, got a string'],
  },
  {
    name: 'client.clientCredentials(options)',
    call: (extra) => client.clientCredentials(extra as never),
    typo: ['forceRenew', 'forceRenewal'],
    misplaced: ['scope', 'scopes is a list'],
  },
  {
    name: 'client.revoke(token, options)',
    call: (extra) => client.revoke('refresh-token', extra as never),
    typo: ['originJTI', 'originJti'],
    misplaced: ['origin_jti', 'did you mean "originJti"?'],
  },
  {
    name: 'new TokenSession(client, tokens, options)',
    call: (extra) => new TokenSession(client, sessionTokens, extra as never).close?.(),
    typo: ['autoRefesh', 'autoRefresh'],
    misplaced: ['timeoutMs', 'it is a TokenEndpointClient option'],
    wrongType: ['autoRefresh', 'true', 'autoRefresh must be true or false, got a string'],
  },
  {
    name: 'new TokenSession(client, tokens) — the tokens',
    call: (extra) => new TokenSession(client, { ...sessionTokens, ...extra } as never).close?.(),
    typo: ['idtoken', 'idToken'],
    misplaced: ['expiresIn', 'read from the tokens themselves'],
  },
  {
    name: 'requireGroups(groups, options)',
    call: (extra) => requireGroups('admins', extra as never),
    typo: ['mtach', 'match'],
    misplaced: ['groups', 'the first argument'],
  },
  {
    name: 'requireScopes(scopes, options)',
    call: (extra) => requireScopes('orders/read', extra as never),
    typo: ['Match', 'match'],
    misplaced: ['scopes', 'the first argument'],
  },
  {
    name: 'generateKeyPair(options)',
    call: (extra) => generateKeyPair({ modulusLength: 1024, ...extra }),
    typo: ['modulusLenght', 'modulusLength'],
    misplaced: ['bits', 'modulusLength'],
    wrongType: ['modulusLength', '2048', 'modulusLength must be a number, got a string'],
  },
  {
    name: 'startJwksServer(options)',
    call: async (extra) => (await startJwksServer({ keys: [key], ...extra })).close(),
    typo: ['header', 'headers'],
    misplaced: ['port', 'server.port'],
  },
  {
    name: 'mintAccessToken(options)',
    call: (extra) => mintAccessToken({ key, ...extra }),
    typo: ['group', 'groups'],
    misplaced: ['aud', 'set clientId'],
    wrongType: ['expiresIn', '60', 'expiresIn must be a number, got a string'],
  },
  {
    name: 'mintIdToken(options)',
    call: (extra) => mintIdToken({ key, ...extra }),
    typo: ['userName', 'username'],
    misplaced: ['tokenUse', 'mintIdToken() or mintAccessToken()'],
  },
  {
    name: 'mintClientCredentialsToken(options)',
    call: (extra) => mintClientCredentialsToken({ key, ...extra }),
    typo: ['scopes', 'scope'],
    misplaced: ['kid', 'header: { kid }'],
  },
  {
    name: 'generateAlbKeyPair(options)',
    call: (extra) => generateAlbKeyPair(extra as never),
    typo: ['namedcurve', 'namedCurve'],
    misplaced: ['kid ', 'did you mean "kid"?'],
  },
  {
    name: 'mintAlbToken(options)',
    call: (extra) => mintAlbToken({ key: albKey, ...extra }),
    typo: ['albARN', 'albArn'],
    misplaced: ['expiresIn ', 'did you mean "expiresIn"?'],
  },
  {
    name: 'startAlbKeyServer(options)',
    call: async (extra) => (await startAlbKeyServer({ keys: [albKey], ...extra })).close(),
    typo: ['header', 'headers'],
    misplaced: ['keys ', 'did you mean "keys"?'],
  },
];

/** Run `fn` (sync or async) and return what it threw or rejected with. */
async function failureOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail('it accepted the options');
}

async function assertConfigError(fn: () => unknown, ...fragments: string[]): Promise<void> {
  const error = await failureOf(fn);
  assert.ok(error instanceof CognitoJwtError, `not a CognitoJwtError: ${String(error)}`);
  assert.equal(error.code, 'ERR_CONFIG_INVALID', error.message);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), error.message);
}

describe('every public options object refuses keys it does not know', () => {
  for (const entry of entries) {
    const [typo, suggestion] = entry.typo;
    const [misplaced, advice] = entry.misplaced;

    test(`${entry.name}: the valid options are accepted`, async () => {
      await entry.call({});
    });

    test(`${entry.name}: misspelt "${typo}" names "${suggestion}"`, async () => {
      await assertConfigError(
        () => entry.call({ [typo]: 'x' }),
        `unknown option "${typo}"; did you mean "${suggestion}"?`,
      );
    });

    test(`${entry.name}: "${misplaced.trim()}" says where it belongs`, async () => {
      await assertConfigError(() => entry.call({ [misplaced]: 'x' }), `${JSON.stringify(misplaced)}`, advice);
    });

    if (entry.wrongType) {
      const [name, value, words] = entry.wrongType;
      test(`${entry.name}: ${name} ${JSON.stringify(value)} says which type it got`, async () => {
        await assertConfigError(() => entry.call({ [name]: value }), words);
      });
    }
  }
});

describe('what the suggestion rests on', () => {
  test('options that are not an object are refused', async () => {
    await assertConfigError(
      () => new CognitoVerifier(config, 'fast' as never),
      'must be an object, got a string',
    );
    await assertConfigError(() => new JwksCache([] as never), 'must be an object, got an array');
    await assertConfigError(() => expressAuth(null as never), 'must be an object, got null');
    await assertConfigError(() => createTokenAuthorizer(undefined as never), 'needs an options object');
  });

  test('a key far from every known one lists the known keys instead of guessing', async () => {
    await assertConfigError(
      () => new JwksCache({ tenant: 'a' } as never),
      'unknown option "tenant" (known: fetch, clock, timeoutMs,',
    );
  });

  test('keys inherited through the prototype or named __proto__ do not pass unseen', async () => {
    const sneaky = JSON.parse('{"__proto__": {"isAdmin": true}}');
    await assertConfigError(() => new JwksCache(sneaky), 'unknown option "__proto__"');
    assert.equal(({} as Options).isAdmin, undefined);
  });

  test('closestName: typos, swaps and case are near; unrelated names are not', () => {
    assert.equal(closestName('timeoutMS', ['timeoutMs', 'maxBytes']), 'timeoutMs');
    assert.equal(closestName('isRevoke', ['isRevoked', 'jwksCache']), 'isRevoked');
    assert.equal(closestName('verifiedTokenCashe', ['verifiedTokenCache']), 'verifiedTokenCache');
    assert.equal(closestName('clockTolerance', ['clockToleranceSeconds']), 'clockToleranceSeconds');
    assert.equal(closestName('cilentId', ['clientId']), 'clientId');
    assert.equal(closestName('tenant', ['clientId', 'userPoolId']), undefined);
    assert.equal(closestName('x'.repeat(200), ['x']), undefined);
  });
});

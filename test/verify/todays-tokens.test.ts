/**
 * Today's Cognito tokens in the verifier: access tokens bound to a resource (`audience`), groups
 * from another claim (`groupsClaim`), a schema for custom claims, and the partitions whose issuer
 * cannot be derived.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CognitoVerifier,
  defineRoles,
  groupsOf,
  parseGroups,
  requireGroups,
  type VerifierConfig,
} from '../../src/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_POOL_ID,
  generateKeyPair,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
} from '../../src/testing/index.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { type Equals, expectTrue, expectType } from '../helpers/expect-type.ts';
import { noFetch } from '../helpers/no-fetch.ts';

const key = generateKeyPair();
const jwks = buildJwks(key);
const userPoolId = DEFAULT_TEST_POOL_ID;
const options = () => ({ fetch: noFetch().fetch });
const API = 'https://api.example.com/orders';

function untyped(config: unknown): CognitoVerifier {
  return new CognitoVerifier(config as VerifierConfig, options());
}

describe('audience: access tokens bound to a resource (RFC 8707)', () => {
  const verifier = new CognitoVerifier(
    { userPoolId, clientId: 'c1', tokenUse: 'access', audience: API, jwks },
    options(),
  );

  test('aud as a string or an array holding the resource passes; client_id stays the client check', () => {
    assert.equal(verifier.verifySync(mintAccessToken({ key, clientId: 'c1', resource: API })).aud, API);
    const both = verifier.verifySync(
      mintAccessToken({ key, clientId: 'c1', resource: ['https://other.example', API] }),
    );
    assert.deepEqual(both.aud, ['https://other.example', API]);
    throwsCode(
      () => verifier.verifySync(mintAccessToken({ key, clientId: 'c2', resource: API })),
      'ERR_CLIENT_MISMATCH',
    );
  });

  test('another resource, no aud, a prefix or a different case: ERR_AUDIENCE_MISMATCH (401)', () => {
    for (const resource of [
      'https://api.example.com/payments',
      `${API}/`,
      API.toUpperCase(),
      API.slice(0, -1),
    ]) {
      throwsCode(
        () => verifier.verifySync(mintAccessToken({ key, clientId: 'c1', resource })),
        'ERR_AUDIENCE_MISMATCH',
        { claim: 'aud', status: 401, message: 'not to "https://api.example.com/orders"' },
      );
    }
    throwsCode(() => verifier.verifySync(mintAccessToken({ key, clientId: 'c1' })), 'ERR_AUDIENCE_MISMATCH', {
      message: 'bound to no resource',
    });
    throwsCode(
      () => verifier.verifySync(mintAccessToken({ key, clientId: 'c1', claims: { aud: { uri: API } } })),
      'ERR_CLAIM_INVALID',
      { claim: 'aud' },
    );
  });

  test('a list of resources: any one of them binds', () => {
    const two = new CognitoVerifier(
      {
        userPoolId,
        clientId: null,
        tokenUse: 'access',
        audience: [API, 'https://mcp.example.com/mcp'],
        jwks,
      },
      options(),
    );
    assert.ok(two.verifySync(mintAccessToken({ key, resource: 'https://mcp.example.com/mcp' })));
    assert.ok(two.verifySync(mintClientCredentialsToken({ key, resource: API })));
  });

  test('unset: aud on an access token is type-checked and otherwise allowed', () => {
    const plain = new CognitoVerifier({ userPoolId, clientId: 'c1', tokenUse: 'access', jwks }, options());
    assert.equal(plain.verifySync(mintAccessToken({ key, clientId: 'c1', resource: API })).aud, API);
    assert.equal(plain.verifySync(mintAccessToken({ key, clientId: 'c1' })).aud, undefined);
    for (const aud of [42, [API, 7], {}]) {
      throwsCode(
        () => plain.verifySync(mintAccessToken({ key, clientId: 'c1', claims: { aud } })),
        'ERR_CLAIM_INVALID',
        { claim: 'aud' },
      );
    }
  });

  test("refused at construction unless tokenUse is 'access'; a bad value is refused too", () => {
    for (const tokenUse of ['id', null]) {
      throwsCode(
        () => untyped({ userPoolId, clientId: 'c1', tokenUse, audience: API }),
        'ERR_CONFIG_INVALID',
        {
          message: "audience needs tokenUse: 'access'",
        },
      );
    }
    for (const audience of ['', [], [API, ''], 42]) {
      throwsCode(
        () => untyped({ userPoolId, clientId: 'c1', tokenUse: 'access', audience }),
        'ERR_CONFIG_INVALID',
        {
          message: 'audience must be',
        },
      );
    }
  });

  test('an ID token never reaches the binding: its aud is its client', () => {
    const ids = new CognitoVerifier({ userPoolId, clientId: API, tokenUse: 'id', jwks }, options());
    // Even a client id that looks like the resource is only a client id.
    assert.equal(ids.verifySync(mintIdToken({ key, clientId: API })).aud, API);
    throwsCode(() => verifier.verifySync(mintIdToken({ key, clientId: API })), 'ERR_TOKEN_USE_MISMATCH');
  });
});

describe('groupsClaim: where groups come from', () => {
  const bracketed = { claim: 'custom:groups', format: 'bracketed' } as const;

  test('parsers: array, json, bracketed, string', () => {
    const parse = (format: 'array' | 'json' | 'bracketed' | 'string', value: unknown) =>
      parseGroups({ g: value }, { claim: 'g', format });
    assert.deepEqual(parse('array', ['a', 'b']), ['a', 'b']);
    assert.deepEqual(parse('json', '["a","b c"]'), ['a', 'b c']);
    assert.deepEqual(parse('bracketed', '[admins, staff]'), ['admins', 'staff']);
    assert.deepEqual(parse('bracketed', '[admins]'), ['admins']);
    assert.deepEqual(parse('bracketed', '[]'), []);
    assert.deepEqual(parse('bracketed', ''), []);
    assert.deepEqual(parse('string', 'admins'), ['admins']);
    assert.deepEqual(parse('string', ''), []);
    assert.deepEqual(parseGroups({}, { claim: 'g', format: 'bracketed' }), []);
    // A bare comma stays inside one name; ", " separates (a name holding ", " comes out split).
    assert.deepEqual(parse('bracketed', '[CN=Admins,OU=Groups, staff]'), ['CN=Admins,OU=Groups', 'staff']);
    assert.deepEqual(parse('bracketed', '[CN=Admins, OU=Groups]'), ['CN=Admins', 'OU=Groups']);
  });

  test('malformed values are refused, never guessed at', () => {
    const cases: ['array' | 'json' | 'bracketed' | 'string', unknown][] = [
      ['array', 'admins'],
      ['array', ['a', 1]],
      ['array', ['']],
      ['json', '[a, b]'],
      ['json', '{"a":1}'],
      ['json', ['a']],
      ['bracketed', 'admins'],
      ['bracketed', '[admins'],
      ['bracketed', 'admins]'],
      ['bracketed', ['admins']],
      ['bracketed', '[a,  b]'],
      ['bracketed', '[a, , b]'],
      ['bracketed', '[ a]'],
      ['bracketed', '[a, [b]]'],
      ['bracketed', '["a", "b"]'],
      ['bracketed', `[${'a'.repeat(2047)}]`],
      ['string', ['a']],
      ['string', 7],
    ];
    for (const [format, value] of cases) {
      throwsCode(() => parseGroups({ g: value }, { claim: 'g', format }), 'ERR_CLAIM_INVALID', {
        claim: 'g',
      });
    }
    // 2 048 characters fit a custom attribute.
    assert.equal(parseGroups({ g: `[${'a'.repeat(2046)}]` }, { claim: 'g', format: 'bracketed' }).length, 1);
  });

  test('the verifier, groupsOf(), group rules and the roles map read the configured claim', async () => {
    const verifier = new CognitoVerifier(
      {
        userPoolId,
        clientId: null,
        tokenUse: 'id',
        groupsClaim: bracketed,
        groups: ['admins', 'staff'],
        jwks,
      },
      options(),
    );
    const claims = verifier.verifySync(
      mintIdToken({ key, groups: ['ignored'], claims: { 'custom:groups': '[staff, CN=Ops,OU=Groups]' } }),
    );
    assert.deepEqual(groupsOf(claims), ['staff', 'CN=Ops,OU=Groups']);
    await requireGroups('staff')(claims);
    throwsCode(() => requireGroups('ignored')(claims), 'ERR_GROUP_MISSING');
    const roles = defineRoles({ operator: ['CN=Ops,OU=Groups'], owner: ['ignored'] });
    assert.deepEqual(roles.rolesOf(claims), ['operator']);
    // The config's own groups check reads it too, and names the claim.
    throwsCode(
      () =>
        verifier.verifySync(
          mintIdToken({ key, groups: ['admins'], claims: { 'custom:groups': '[guests]' } }),
        ),
      'ERR_GROUP_MISSING',
      { claim: 'custom:groups' },
    );
    throwsCode(
      () => verifier.verifySync(mintIdToken({ key, claims: { 'custom:groups': 'admins' } })),
      'ERR_CLAIM_INVALID',
      { claim: 'custom:groups' },
    );
    // Cached tokens keep their groups.
    const token = mintIdToken({ key, claims: { 'custom:groups': '[admins]' } });
    assert.deepEqual(groupsOf(verifier.verifySync(token)), ['admins']);
    assert.deepEqual(groupsOf(verifier.verifySync(token)), ['admins']);
  });

  test('a claim name alone reads an array; an absent claim is no groups, not cognito:groups', () => {
    const verifier = new CognitoVerifier(
      { userPoolId, clientId: null, tokenUse: 'access', groupsClaim: 'app:roles', jwks },
      options(),
    );
    assert.deepEqual(
      groupsOf(verifier.verifySync(mintAccessToken({ key, claims: { 'app:roles': ['x'] } }))),
      ['x'],
    );
    assert.deepEqual(groupsOf(verifier.verifySync(mintAccessToken({ key, groups: ['admins'] }))), []);
  });

  test('config mistakes are refused at construction', () => {
    for (const groupsClaim of [
      '',
      { claim: 'g' },
      { claim: 'g', format: 'csv' },
      { claim: '', format: 'array' },
      7,
    ]) {
      throwsCode(
        () => untyped({ userPoolId, clientId: null, tokenUse: null, groupsClaim }),
        'ERR_CONFIG_INVALID',
      );
    }
    throwsCode(
      () =>
        untyped({
          userPoolId,
          clientId: null,
          tokenUse: null,
          groupsClaim: { claim: 'g', format: 'array', sep: ',' },
        }),
      'ERR_CONFIG_INVALID',
      { message: 'unknown option "sep"' },
    );
  });
});

describe('claims: a schema for custom claims', () => {
  const schema = { tenant: 'string', plan: ['free', 'pro'], seats: 'integer?', beta: 'boolean?' } as const;
  const verifier = new CognitoVerifier(
    { userPoolId, clientId: null, tokenUse: 'access', claims: schema, jwks },
    options(),
  );

  test('claims that fit pass, typed from the schema with no cast', () => {
    const claims = verifier.verifySync(
      mintAccessToken({ key, claims: { tenant: 'acme', plan: 'pro', seats: 5 } }),
    );
    expectType<string>(claims.tenant);
    expectTrue<Equals<typeof claims.plan, 'free' | 'pro'>>();
    expectTrue<Equals<typeof claims.seats, number | undefined>>();
    expectType<string>(claims.client_id);
    assert.equal(claims.tenant, 'acme');
    assert.equal(claims.plan, 'pro');
  });

  test('a claim that does not fit is ERR_CLAIM_INVALID naming it', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ plan: 'pro' }, 'tenant'],
      [{ tenant: 7, plan: 'pro' }, 'tenant'],
      [{ tenant: 'acme', plan: 'gold' }, 'plan'],
      [{ tenant: 'acme', plan: 'pro', seats: '5' }, 'seats'],
      [{ tenant: 'acme', plan: 'pro', seats: 1.5 }, 'seats'],
      [{ tenant: 'acme', plan: 'pro', beta: 'true' }, 'beta'],
    ];
    for (const [claims, claim] of cases) {
      throwsCode(() => verifier.verifySync(mintAccessToken({ key, claims })), 'ERR_CLAIM_INVALID', {
        claim,
        status: 401,
      });
    }
  });

  test('schema mistakes are refused at construction', () => {
    for (const claims of [
      { tenant: 'strin' },
      { plan: [] },
      { plan: [1] },
      { sub: 'string' },
      { acr: 'string' },
      'x',
    ]) {
      throwsCode(() => untyped({ userPoolId, clientId: null, tokenUse: null, claims }), 'ERR_CONFIG_INVALID');
    }
  });
});

describe('acr and amr claims', () => {
  test('acr must be a string and amr an array of strings when present', () => {
    const verifier = new CognitoVerifier({ userPoolId, clientId: null, tokenUse: null, jwks }, options());
    const claims = verifier.verifySync(mintIdToken({ key, acr: 'urn:cognito:loa:2', amr: ['pwd', 'mfa'] }));
    expectType<string | undefined>(claims.acr);
    assert.equal(claims.acr, 'urn:cognito:loa:2');
    throwsCode(() => verifier.verifySync(mintIdToken({ key, claims: { acr: 2 } })), 'ERR_CLAIM_INVALID', {
      claim: 'acr',
    });
    throwsCode(() => verifier.verifySync(mintIdToken({ key, claims: { amr: 'mfa' } })), 'ERR_CLAIM_INVALID', {
      claim: 'amr',
    });
  });

  test('acrLevels: four distinct names, or refused', () => {
    assert.ok(untyped({ userPoolId, clientId: null, tokenUse: null, acrLevels: ['b', 's', 'g', 'p'] }));
    for (const acrLevels of [['a', 'b', 'c'], ['a', 'a', 'b', 'c'], ['a b', 'c', 'd', 'e'], 'a']) {
      throwsCode(
        () => untyped({ userPoolId, clientId: null, tokenUse: null, acrLevels }),
        'ERR_CONFIG_INVALID',
        {
          message: 'acrLevels',
        },
      );
    }
  });
});

// The identity headers the service answers with: what each holds, and an encoding that any HTTP
// hop carries unchanged and decodeURIComponent reads back byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkServiceConfig } from '../../src/service/config.ts';
import { checkClaimHeaders, headerValue, identityHeaders } from '../../src/service/identity-headers.ts';
import type { CognitoClaims } from '../../src/token/claims.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { nginxAsk, startHarness } from './harness.ts';

/** What survives every HTTP/1.1 hop untouched: printable ASCII, no whitespace at either end. */
const TRANSPORTABLE = /^(?:[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?)?$/;

/** What a claim reads back as: itself, or with U+FFFD for a lone surrogate (not a Unicode character). */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

test('encoding: any string survives an HTTP hop and decodes back exactly (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (claim) => {
      const value = headerValue(claim);
      assert.match(value, TRANSPORTABLE);
      assert.equal(decodeURIComponent(value), wellFormed(claim));
    }),
    { numRuns: 300 },
  );
  // Spaces and separators are the interesting characters: more of them.
  const spacey = fc.string({ unit: fc.constantFrom(' ', ',', '%', 'a', '\t', 'é'), maxLength: 12 });
  fc.assert(
    fc.property(spacey, (claim) => {
      const value = headerValue(claim);
      assert.match(value, TRANSPORTABLE);
      assert.equal(decodeURIComponent(value), claim);
    }),
    { numRuns: 300 },
  );
});

test('encoding: a groups list splits on "," and decodes back to every group exactly (property)', () => {
  const group = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    fc.string({ unit: fc.constantFrom(' ', ',', 'a'), minLength: 1, maxLength: 6 }),
  );
  fc.assert(
    fc.property(fc.array(group, { minLength: 1, maxLength: 5 }), (groups) => {
      const claims = { sub: 's', token_use: 'access', 'cognito:groups': groups } as unknown as CognitoClaims;
      const value = identityHeaders(claims, { claimsHeader: false })['x-auth-request-groups']!;
      assert.match(value, TRANSPORTABLE);
      // What an application does: split the list (trimming each item, as many list parsers do), then decode.
      assert.deepEqual(
        value.split(',').map((item) => decodeURIComponent(item.trim())),
        groups.map(wellFormed),
      );
    }),
    { numRuns: 1000 },
  );
});

test('encoding: spaces at either end of a value and around the group separator are encoded', () => {
  assert.equal(headerValue(' admin'), '%20admin');
  assert.equal(headerValue('admin  '), 'admin%20%20');
  assert.equal(headerValue('   '), '%20%20%20');
  assert.equal(headerValue('Ada Lovelace'), 'Ada Lovelace', 'inner spaces stay as they are');
  const claims = {
    sub: ' sub ',
    token_use: 'access',
    scope: 'orders/read ',
    'cognito:groups': ['admins ', ' staff', 'a b'],
  } as unknown as CognitoClaims;
  const headers = identityHeaders(claims, { claimsHeader: false });
  assert.equal(headers['x-auth-request-sub'], '%20sub%20');
  assert.equal(headers['x-auth-request-scope'], 'orders/read%20');
  assert.equal(headers['x-auth-request-groups'], 'admins%20,%20staff,a b');
});

test('email: sent only when email_verified is true ("true" only in a userinfo answer); Email-Verified says which', () => {
  const base = { sub: 's', token_use: 'id', aud: 'c', email: 'boss@example.com' };
  const headersOf = (claims: Record<string, unknown>, userinfo = false) => {
    const headers = identityHeaders({ ...base, ...claims } as unknown as CognitoClaims, {
      claimsHeader: false,
      userinfo,
    });
    return [headers['x-auth-request-email'], headers['x-auth-request-email-verified']];
  };
  assert.deepEqual(headersOf({ email_verified: true }), ['boss@example.com', 'true']);
  // Typed in at sign-up, or asserted by a federated IdP without proof: not the user's address.
  assert.deepEqual(headersOf({ email_verified: false }), ['', 'false']);
  assert.deepEqual(headersOf({}), ['', 'false']);
  assert.deepEqual(headersOf({ email_verified: 'true' }), ['', 'false'], 'a string in a token is not true');
  assert.deepEqual(headersOf({ email_verified: 'yes' }, true), ['', 'false']);
  // The load balancer's userinfo says "true" as a string.
  assert.deepEqual(headersOf({ email_verified: 'true' }, true), ['boss@example.com', 'true']);
  // No email at all (an access token): both empty, and both present.
  const access = identityHeaders({ sub: 's', token_use: 'access' } as unknown as CognitoClaims, {
    claimsHeader: false,
  });
  assert.equal(access['x-auth-request-email'], '');
  assert.equal(access['x-auth-request-email-verified'], '');
  const anonymous = identityHeaders(undefined, { claimsHeader: false });
  assert.equal(anonymous['x-auth-request-email-verified'], '');
});

test('identity headers from the config: any claim, custom ones included, by the same encoding; always present', () => {
  const claimHeaders = checkClaimHeaders({
    'X-Auth-Request-Tenant': 'custom:tenant',
    'x-auth-request-level': 'custom:level',
    'X-Auth-Request-Roles': 'roles',
    'X-Auth-Request-Admin': 'admin',
    'X-Auth-Request-Profile': 'profile',
    'X-Auth-Request-Missing': 'custom:none',
  });
  const claims = {
    sub: 's',
    token_use: 'id',
    'custom:tenant': ' Zoë & Co ',
    'custom:level': 3,
    roles: ['a,b', 'c '],
    admin: false,
    profile: { team: 'x' },
  } as unknown as CognitoClaims;
  const headers = identityHeaders(claims, { claimsHeader: false, claimHeaders });
  assert.equal(headers['x-auth-request-tenant'], '%20Zo%C3%AB & Co%20');
  assert.equal(decodeURIComponent(headers['x-auth-request-tenant']!), ' Zoë & Co ');
  assert.equal(headers['x-auth-request-level'], '3');
  assert.equal(headers['x-auth-request-roles'], 'a%2Cb,c%20');
  assert.equal(headers['x-auth-request-admin'], 'false');
  assert.deepEqual(JSON.parse(decodeURIComponent(headers['x-auth-request-profile']!)), { team: 'x' });
  assert.equal(headers['x-auth-request-missing'], '');
  const anonymous = identityHeaders(undefined, { claimsHeader: false, claimHeaders });
  for (const name of claimHeaders.keys()) assert.equal(anonymous[name], '', name);
});

test('identity headers from the config: a name outside X-Auth-Request-* and other mistakes are refused at start', () => {
  const bad: [unknown, RegExp][] = [
    [{ 'X-Tenant': 'custom:tenant' }, /"X-Tenant" must be "X-Auth-Request-"/],
    [{ 'X-Auth-Request_Tenant': 'custom:tenant' }, /must be "X-Auth-Request-"/],
    [{ X_Auth_Request_Tenant: 'custom:tenant' }, /must be "X-Auth-Request-"/],
    [{ 'X-Auth-Request-': 'custom:tenant' }, /must be "X-Auth-Request-"/],
    [{ 'X-Auth-Request-Groups': 'custom:groups' }, /one of the service's own headers/],
    [{ 'X-Auth-Request-Email-Verified': 'x' }, /one of the service's own headers/],
    [{ 'X-Auth-Request-A': 'a', 'x-auth-request-a': 'b' }, /named twice/],
    [{ 'X-Auth-Request-A': '' }, /must name a claim/],
    [{ 'X-Auth-Request-A': ['a'] }, /must name a claim/],
    [['X-Auth-Request-A'], /must be an object/],
  ];
  for (const [identityHeaders, message] of bad) {
    throwsCode(
      () =>
        checkServiceConfig(
          {
            pools: [{ userPoolId: 'eu-west-1_AbC123', clientId: ['c'], tokenUse: 'access' }],
            identityHeaders,
          },
          { baseDir: '.' },
        ),
      'ERR_CONFIG_INVALID',
      { message },
    );
  }
});

test('identity headers from the config reach the answer of the running service', async (t) => {
  const harness = await startHarness(t, { identityHeaders: { 'X-Auth-Request-Tenant': 'custom:tenant' } });
  const token = harness.id({ claims: { 'custom:tenant': 'acme' } });
  let answer = await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('x-auth-request-tenant'), 'acme');
  answer = await nginxAsk(harness, 'GET', '/public/page');
  assert.equal(answer.headers.get('x-auth-request-tenant'), '', 'present and empty on an anonymous route');
});

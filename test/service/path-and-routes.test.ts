import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerValue, identityHeaders } from '../../src/service/identity-headers.ts';
import { normalisePath } from '../../src/service/path.ts';
import { compileRoutes, matchRoute } from '../../src/service/routes.ts';
import type { CognitoClaims } from '../../src/token/claims.ts';
import { throwsCode } from '../helpers/assert-error.ts';

const sensitive = { caseSensitive: true };

test('normalisePath: every spelling of /admin becomes /admin', () => {
  for (const uri of [
    '/admin',
    '/admin/',
    '/admin?x=/public',
    '//admin',
    '///admin//',
    '/./admin',
    '/public/../admin',
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin',
    '/public/.%2e/admin',
    '/public/%2e./admin',
    '/public/x/../../admin',
    '/%61dmin',
    '/admin;jsessionid=1',
    '/admin;x',
  ]) {
    assert.deepEqual(normalisePath(uri, sensitive), { ok: true, path: '/admin' }, uri);
  }
});

test('normalisePath: /admin/../public is /public, as the upstream reads it', () => {
  assert.deepEqual(normalisePath('/admin/../public', sensitive), { ok: true, path: '/public' });
  assert.deepEqual(normalisePath('/admin/%2e%2e/public?x', sensitive), { ok: true, path: '/public' });
});

test('normalisePath: what cannot be normalised unambiguously is refused, with the reason', () => {
  const cases: [string, RegExp][] = [
    ['/admin%2Fusers', /encoded slash/],
    ['/admin%2fusers', /encoded slash/],
    ['/public%2F..%2Fadmin', /encoded slash/],
    ['/admin%5Cusers', /encoded slash, backslash/],
    ['/admin\\users', /backslash/],
    ['/admin%00', /NUL/],
    ['/public/%252e%252e/admin', /double-encoded/],
    ['/admin%3Bx', /encoded ";"/],
    ['/public/..;/admin', /parameters/],
    ['/public/.;x/admin', /parameters/],
    ['/;x/admin', /parameters/],
    ['/..', /above the root/],
    ['/public/../../admin', /above the root/],
    ['/a//../admin', /after an empty segment/],
    ['/admin%', /malformed/],
    ['/admin%zz', /malformed/],
    ['/admin%C3%28', /malformed/],
    ['/admin%0a', /control/],
    ['/adm in', /space, a control or a non-ASCII/],
    ['/admin#frag', /raw "#"/],
    ['/public#/../admin', /raw "#"/],
    ['/admin?x=#', /raw "#"/],
    ['/admin.', /ends in a space or a dot/],
    ['/admin..', /ends in a space or a dot/],
    ['/admin...', /ends in a space or a dot/],
    ['/admin%2e', /ends in a space or a dot/],
    ['/admin%20', /ends in a space or a dot/],
    ['/admin%20/users', /ends in a space or a dot/],
    ['/admin.%20', /ends in a space or a dot/],
    ['/admín', /non-ASCII/],
    ['admin', /start with/],
    ['http://host/admin', /start with/],
    ['*', /start with/],
    [`/${'a'.repeat(9000)}`, /longer than/],
  ];
  for (const [uri, reason] of cases) {
    const result = normalisePath(uri, sensitive);
    assert.equal(result.ok, false, uri);
    if (!result.ok) assert.match(result.reason, reason, uri);
  }
});

test('normalisePath: case is kept, or folded for case-insensitive upstreams', () => {
  assert.deepEqual(normalisePath('/ADMIN/Users', sensitive), { ok: true, path: '/ADMIN/Users' });
  assert.deepEqual(normalisePath('/ADMIN/Users', { caseSensitive: false }), {
    ok: true,
    path: '/admin/users',
  });
  assert.deepEqual(normalisePath('/caf%C3%A9', sensitive), { ok: true, path: '/café' });
});

// Java's equalsIgnoreCase (Spring's case-insensitive matching) takes each of these for /admin or
// /secret; Unicode case folding takes ß for ss. Folded with toLowerCase() they were other paths.
const CASE_INSENSITIVE_SPELLINGS = [
  ['/adm%C4%B1n', '/admın (dotless ı)'],
  ['/ADM%C4%B0N', '/ADMİN (dotted İ)'],
  ['/%C4%B0%E2%84%AA', '/İK (Kelvin sign)'],
  ['/%C5%BFecret', '/ſecret (long s)'],
  ['/stra%C3%9Fe', '/straße'],
  ['/%EF%AC%81le', '/ﬁle (ligature)'],
  ['/%EF%BD%81dmin', '/ａdmin (fullwidth)'],
  ['/caf%C3%A9', '/café'],
  ['/public/adm%C4%B1n', 'a later segment'],
];

test('normalisePath: with caseSensitive false, every non-ASCII spelling is refused (no fold covers every upstream)', () => {
  for (const [uri, what] of CASE_INSENSITIVE_SPELLINGS) {
    const result = normalisePath(uri!, { caseSensitive: false });
    assert.equal(result.ok, false, what);
    if (!result.ok) assert.match(result.reason, /non-ASCII character in a case-insensitive path/, what);
    assert.equal(normalisePath(uri!, sensitive).ok, true, `${what} is its own path when case matters`);
  }
  // Raw non-ASCII was refused in both modes already.
  assert.equal(normalisePath('/admın', { caseSensitive: false }).ok, false);
});

test('routes: /admin*/** covers what prefix routers, Rails format suffixes and IIS send to /admin', () => {
  const routes = compileRoutes(
    [
      { path: '/admin*/**', require: { groups: 'admins' } },
      { path: '/*.json', require: 'authenticated' },
      { path: '/v*-beta/**', require: 'authenticated' },
      { path: '/**', require: 'anonymous' },
    ],
    { caseSensitive: true },
  );
  const index = (uri: string) => {
    const normalised = normalisePath(uri, sensitive);
    return normalised.ok ? matchRoute(routes, 'GET', normalised.path)?.index : 'refused';
  };
  for (const uri of [
    '/admin',
    '/admin/users',
    '/admin.json',
    '/admin.json/x',
    '/admin-console',
    '/administrator',
    '/admin;x.json',
    '/%61dmin.json',
  ]) {
    assert.equal(index(uri), 0, uri);
  }
  for (const uri of ['/admin.', '/admin%20', '/admin%2e', '/admin.%20/users']) {
    assert.equal(index(uri), 'refused', uri);
  }
  assert.equal(index('/public/admin'), 3);
  assert.equal(index('/adm'), 3);
  assert.equal(index('/report.json'), 1);
  assert.equal(index('/report.json5'), 3, 'the glob is anchored at the end');
  assert.equal(index('/v2-beta/x'), 2);
  assert.equal(index('/v2-beta-old/x'), 3);
  // Regular-expression characters in a pattern are literal.
  const literal = compileRoutes([{ path: '/a+b*', require: 'anonymous' }], { caseSensitive: true });
  assert.equal(matchRoute(literal, 'GET', '/a+bc')?.index, 0);
  assert.equal(matchRoute(literal, 'GET', '/aab')?.index, undefined);
  const folded = compileRoutes([{ path: '/Admin*/**', require: 'anonymous' }], { caseSensitive: false });
  assert.equal(matchRoute(folded, 'GET', '/administrator/x')?.index, 0);
});

test('routes: match "all" with roles asks for every role; "any" (the default) for one', async () => {
  const { authorize } = await import('../../src/authz/rule.ts');
  const roles = { editor: ['editors'], auditor: ['auditors', 'admins'] };
  const compile = (match?: 'all' | 'any') =>
    compileRoutes([{ path: '/**', require: { roles: ['editor', 'auditor'], ...(match ? { match } : {}) } }], {
      caseSensitive: true,
      roles,
    })[0]!;
  const claims = (groups: string[]) =>
    ({ sub: 's', iss: 'i', exp: 1, iat: 1, token_use: 'access', 'cognito:groups': groups }) as CognitoClaims;
  const passes = async (match: 'all' | 'any' | undefined, groups: string[]) =>
    authorize(claims(groups), compile(match).rules).then(
      () => true,
      () => false,
    );
  assert.equal(await passes('all', ['editors']), false, 'one role of two is not all');
  assert.equal(await passes('all', ['editors', 'admins']), true);
  assert.equal(await passes('all', ['auditors', 'admins']), false);
  assert.equal(await passes('any', ['editors']), true);
  assert.equal(await passes(undefined, ['admins']), true);
  assert.equal(compile('all').requirement, 'roles all of editor, auditor');
  assert.equal(compile().requirement, 'roles any of editor, auditor');
});

test('routes: exact segments, * for one segment, ** for the rest; first match wins; no match is undefined', () => {
  const routes = compileRoutes(
    [
      { path: '/public/**', require: 'anonymous' },
      { path: '/orders/*', methods: ['GET'], require: { scopes: 'orders/read' } },
      { path: '/orders/*/items', require: 'authenticated' },
      { path: '/admin/**', require: { groups: ['admins'] } },
      { path: '/', require: 'anonymous' },
    ],
    { caseSensitive: true },
  );
  const index = (method: string, path: string) => matchRoute(routes, method, path)?.index;
  assert.equal(index('GET', '/public'), 0);
  assert.equal(index('GET', '/public/a/b/c'), 0);
  assert.equal(index('GET', '/publicity'), undefined);
  assert.equal(index('GET', '/orders/42'), 1);
  assert.equal(index('POST', '/orders/42'), undefined, 'methods restrict the rule');
  assert.equal(index('GET', '/orders'), undefined, '* needs a segment');
  assert.equal(index('GET', '/orders/42/items'), 2);
  assert.equal(index('GET', '/orders/42/items/1'), undefined);
  assert.equal(index('GET', '/admin'), 3, '** matches zero segments');
  assert.equal(index('DELETE', '/admin/users/1'), 3);
  assert.equal(index('GET', '/'), 4);
  assert.equal(index('GET', '/ADMIN'), undefined, 'case matters by default');
  const folded = compileRoutes([{ path: '/Admin/**', require: 'authenticated' }], { caseSensitive: false });
  assert.equal(matchRoute(folded, 'GET', '/admin/x')?.index, 0);
});

test('routes: mistakes are refused when the config is read', () => {
  const bad: [unknown, RegExp][] = [
    [[{ path: '/a/**/b', require: 'anonymous' }], /"\*\*" may only end/],
    [[{ path: 'admin', require: 'anonymous' }], /starting with "\/"/],
    [[{ path: '/a**', require: 'anonymous' }], /"\*\*" must be a whole segment/],
    [[{ path: '/a**/b', require: 'anonymous' }], /"\*\*" must be a whole segment/],
    [[{ path: '/admin.', require: 'anonymous' }], /can never match/],
    [[{ path: '/admin /x', require: 'anonymous' }], /can never match/],
    [[{ path: '/a', require: { groups: 'x', match: 'every' } }], /match must be "any" or "all"/],
    [[{ path: '/a/../b', require: 'anonymous' }], /can never match/],
    [[{ path: '/a;x', require: 'anonymous' }], /can never match/],
    [[{ path: '/a', require: 'anonymus' }], /did you mean "anonymous"/],
    [[{ path: '/a', require: { group: ['x'] } }], /unknown option "group"; did you mean "groups"/],
    [[{ path: '/a', require: {} }], /needs groups, scopes, roles, acr, amr or maxAuthAge/],
    [[{ path: '/a', require: { roles: ['x'] } }], /no "roles" map/],
    [[{ path: '/a', method: ['GET'], require: 'anonymous' }], /did you mean "methods"/],
    [[{ path: '/a', methods: ['get'], require: 'anonymous' }], /upper case/],
    [[{ path: '/a' }], /require is needed/],
    [[], /non-empty list/],
  ];
  for (const [routes, message] of bad) {
    throwsCode(() => compileRoutes(routes, { caseSensitive: true }), 'ERR_CONFIG_INVALID', { message });
  }
});

test('identity headers: always all present, empty when absent; the documented encoding reads back exactly', () => {
  const empty = identityHeaders(undefined, { claimsHeader: true });
  assert.deepEqual(Object.values(empty), ['', '', '', '', '', '', '', '', '']);
  const claims = {
    sub: 's',
    iss: 'i',
    exp: 1,
    iat: 1,
    token_use: 'id',
    aud: 'client',
    'cognito:username': 'Zoë 100%',
    'cognito:groups': ['a,b', 'ünï', 'plain'],
    email: 'line\nbreak@example.com',
    email_verified: true,
  } as CognitoClaims;
  const headers = identityHeaders(claims, { claimsHeader: true });
  assert.equal(headers['x-auth-request-user'], 'Zo%C3%AB 100%25');
  assert.equal(decodeURIComponent(headers['x-auth-request-user']!), 'Zoë 100%');
  assert.equal(headers['x-auth-request-groups'], 'a%2Cb,%C3%BCn%C3%AF,plain');
  assert.deepEqual(headers['x-auth-request-groups']!.split(',').map(decodeURIComponent), [
    'a,b',
    'ünï',
    'plain',
  ]);
  assert.equal(headers['x-auth-request-email'], 'line%0Abreak@example.com');
  assert.equal(headers['x-auth-request-client-id'], 'client');
  assert.equal(headers['x-auth-request-scope'], '');
  assert.deepEqual(
    JSON.parse(Buffer.from(headers['x-auth-request-claims']!, 'base64url').toString()),
    claims,
  );
  assert.equal(headerValue('plain text'), 'plain text');
  assert.equal(headerValue('😀'), '%F0%9F%98%80');
});

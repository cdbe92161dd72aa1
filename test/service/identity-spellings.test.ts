// No spelling of a client's identity header reaches the application: Debian's nginx and Caddy run
// the configs docs/service.md prints (read from it by the helpers), in front of an upstream that
// reads headers as CGI does (`X_Auth_Request_Groups` and `X-Auth-Request-Groups` are one
// variable, HTTP_X_AUTH_REQUEST_GROUPS). With or without a valid token, on protected and anonymous
// routes, the forged value never reaches it: the proxy deletes the header, or the service refuses
// the request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCaddy } from '../helpers/caddy.ts';
import { startEchoUpstream } from '../helpers/echo-upstream.ts';
import { startNginx } from '../helpers/nginx.ts';
import { serviceDocBlock } from '../helpers/service-doc.ts';
import { rawRequest, startHarness } from './harness.ts';

const FORGED = 'forged-admins';

/** `X?Auth?Request?<suffix>` with every separator `-` or `_`: the eight prefix forms. */
function prefixForms(suffix: string): string[] {
  const names: string[] = [];
  for (let bits = 0; bits < 8; bits++) {
    const sep = (bit: number) => (bits & bit ? '_' : '-');
    names.push(`X${sep(1)}Auth${sep(2)}Request${sep(4)}${suffix}`);
  }
  return names;
}

/** Each prefix form with headers the service answers, one it never sends, and other cases. */
const SPELLINGS = [
  ...prefixForms('Groups'),
  ...prefixForms('Claims'),
  ...prefixForms('Tenant').map((name) => name.toLowerCase()),
  'X-Auth-Request-Email_Verified',
  'X-AUTH-REQUEST-USER',
  'x_auth_request_sub',
];

const PROXIES = [
  ['nginx auth_request', startNginx],
  ['Caddy forward_auth', startCaddy],
] as const;

for (const [name, start] of PROXIES) {
  test(`${name} (docs/service.md): no spelling of a client identity header reaches a CGI-style upstream`, async (t) => {
    const harness = await startHarness(t, { identityHeaders: { 'X-Auth-Request-Tenant': 'custom:tenant' } });
    const upstream = await startEchoUpstream();
    t.after(() => upstream.close());
    const proxy = await start({
      servicePort: Number(new URL(harness.service.url).port),
      upstreamPort: upstream.port,
    });
    t.after(() => proxy.stop());
    const token = harness.access({ groups: ['staff'], claims: { 'custom:tenant': 'acme' } });
    const cases = [
      { what: 'anonymous route, no token', path: '/public/page', auth: {}, allowed: true },
      {
        what: 'anonymous route, valid token',
        path: '/public/page',
        auth: { authorization: `Bearer ${token}` },
        allowed: true,
      },
      {
        what: 'protected route, valid token',
        path: '/orders/1',
        auth: { authorization: `Bearer ${token}` },
        allowed: true,
      },
      { what: 'protected route, no token', path: '/orders/1', auth: {}, allowed: false },
    ];
    const statuses = new Map<string, number>();
    for (const spelling of SPELLINGS) {
      for (const { what, path, auth, allowed } of cases) {
        const where = `${spelling}, ${what}`;
        upstream.reset();
        const answer = await rawRequest(proxy.origin, 'GET', path, { ...auth, [spelling]: FORGED });
        statuses.set(`${spelling} ${what}`, answer.status);
        if (answer.status !== 200) {
          // Refused: by the service (400, which nginx shows as 500) or for want of a token (401).
          assert.ok([401, 500, 400].includes(answer.status), `${where}: status ${answer.status}`);
          assert.equal(upstream.requests.length, 0, `${where}: refused, yet the upstream was asked`);
          continue;
        }
        assert.ok(allowed, `${where}: allowed without a token`);
        assert.equal(upstream.requests.length, 1, where);
        const { cgi } = upstream.requests[0]!;
        for (const [variable, values] of Object.entries(cgi)) {
          if (!variable.startsWith('HTTP_X_AUTH_REQUEST_')) continue;
          assert.ok(!values.includes(FORGED), `${where}: ${variable} = ${JSON.stringify(values)}`);
          assert.ok(values.length <= 1, `${where}: ${variable} sent ${values.length} times`);
        }
        if (path === '/orders/1') {
          // The service's own values, and only those.
          assert.deepEqual(cgi.HTTP_X_AUTH_REQUEST_GROUPS, ['staff'], where);
        }
      }
    }
    // What each proxy does, as docs/service.md says: nginx drops names with "_" and the service
    // refuses the rest (a 500 for the client); Caddy deletes all eight prefix forms before asking.
    if (name.startsWith('nginx')) {
      assert.equal(statuses.get('X-Auth-Request-Groups anonymous route, no token'), 500);
      assert.equal(statuses.get('X_Auth_Request_Groups anonymous route, no token'), 200);
    } else {
      for (const spelling of SPELLINGS) {
        assert.equal(statuses.get(`${spelling} anonymous route, no token`), 200, spelling);
      }
    }
    // Every copy list in the doc carries the email's verification status.
    upstream.reset();
    const id = harness.id({ groups: ['staff'] });
    assert.equal(
      (await rawRequest(proxy.origin, 'GET', '/orders/1', { authorization: `Bearer ${id}` })).status,
      200,
    );
    assert.deepEqual(upstream.requests[0]?.cgi.HTTP_X_AUTH_REQUEST_EMAIL_VERIFIED, ['true']);
  });
}

// Traefik and Envoy are not packaged here: their documented configs are read from the doc and the
// parts that strip or refuse a client's identity header are checked against the same spellings.
test('Traefik (docs/service.md): authResponseHeadersRegex matches every spelling, mapped names too, and nothing else', () => {
  const yaml = serviceDocBlock('Traefik', 'yaml');
  const written = /authResponseHeadersRegex: "(.*)"/.exec(yaml)?.[1];
  assert.ok(written, 'the Traefik config sets authResponseHeadersRegex');
  assert.doesNotMatch(yaml, /authResponseHeaders:/, 'no plain list, which replaces only the "-" spelling');
  // Go's RE2 flag group (?i) is JavaScript's "i" flag; the rest is written in syntax both read alike.
  const flagged = /^\(\?i\)(.*)$/.exec(written);
  assert.ok(flagged, `case-insensitive: ${written}`);
  const regex = new RegExp(flagged[1]!, 'i');
  // Go's server canonicalises "-" names (X-Auth-Request-User) and keeps names with "_" as sent.
  for (const name of [
    ...SPELLINGS,
    'X-Auth-Request-Tenant',
    'x-auth-request-department',
    'X-Auth-Request-Claims',
  ]) {
    assert.match(name, regex, name);
  }
  for (const name of [
    'Authorization',
    'Cookie',
    'X-Auth-Requester',
    'X-Auth-Request',
    'X-Forwarded-Uri',
    'Auth-Request-User',
  ]) {
    assert.doesNotMatch(name, regex, name);
  }
});

test('Envoy (docs/service.md): "_" names are rejected, and the service sees a client identity header to refuse it', () => {
  const yaml = serviceDocBlock('Envoy', 'yaml');
  assert.match(yaml, /^\s*headers_with_underscores_action: REJECT_REQUEST\b/m);
  assert.match(yaml, /^\s*failure_mode_allow: false\b/m);
  const lists = [
    ...yaml.matchAll(/^\s*(allowed_headers|allowed_upstream_headers):[^\n]*\n\s*patterns: \[(.*)\]$/gm),
  ];
  const patterns = new Map(lists.map((match) => [match[1], match[2]]));
  // Sent to the service (it refuses the request), and copied from its answer over the client's.
  assert.match(patterns.get('allowed_headers') ?? '', /\{ prefix: x-auth-request- \}/);
  assert.match(patterns.get('allowed_headers') ?? '', /\{ exact: authorization \}/);
  assert.equal(patterns.get('allowed_upstream_headers'), '{ prefix: x-auth-request- }');
});

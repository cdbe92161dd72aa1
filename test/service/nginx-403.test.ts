// A 403 behind nginx: nginx drops the auth subrequest's body, so a refused route reaches the client
// as nginx's own HTML page. docs/service.md ("A 403 behind nginx") shows two ways round it; each is
// read from the doc, added to the documented server block, and run through Debian's nginx in front
// of the service and an upstream. The plain config is run too, to show what the snippets fix.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { startEchoUpstream } from '../helpers/echo-upstream.ts';
import { startNginx } from '../helpers/nginx.ts';
import { serviceDocBlocks } from '../helpers/service-doc.ts';
import { type Harness, nginxAsk, rawRequest, startHarness } from './harness.ts';

const [STATIC_403, NAMED_403] = serviceDocBlocks('A 403 behind nginx', 'nginx');

/** nginx with the documented config (plus `inServer`) in front of a fresh service and upstream. */
async function setUp(t: TestContext, inServer: string | undefined) {
  const harness = await startHarness(t);
  const upstream = await startEchoUpstream();
  t.after(() => upstream.close());
  const nginx = await startNginx({
    servicePort: Number(new URL(harness.service.url).port),
    upstreamPort: upstream.port,
    ...(inServer === undefined ? {} : { inServer }),
  });
  t.after(() => nginx.stop());
  const bearer = (groups: string[]) => ({ authorization: `Bearer ${harness.access({ groups })}` });
  return { harness, upstream, nginx, bearer };
}

/** What the service itself answers nginx's auth request for a staff member on /admin/users. */
async function serviceAnswer(harness: Harness, headers: Record<string, string>) {
  const answer = await nginxAsk(harness, 'GET', '/admin/users', headers);
  return {
    status: answer.status,
    challenge: answer.headers.get('www-authenticate'),
    body: await answer.text(),
  };
}

/** Beside a snippet, what is allowed still passes (with its identity), and a 401 still carries the challenge. */
async function stillAllowsAndChallenges({
  upstream,
  nginx,
  bearer,
}: Omit<Awaited<ReturnType<typeof setUp>>, 'harness'>) {
  const allowed = await rawRequest(nginx.origin, 'GET', '/admin/users', bearer(['admins']));
  assert.equal(allowed.status, 200, allowed.body);
  assert.equal(upstream.requests.length, 1);
  assert.equal(upstream.requests[0]!.headers['x-auth-request-groups'], 'admins');
  const anonymous = await rawRequest(nginx.origin, 'GET', '/admin/users', {});
  assert.equal(anonymous.status, 401);
  assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
}

test('docs/service.md has the two "A 403 behind nginx" snippets', () => {
  assert.ok(STATIC_403?.includes('error_page 403 /'), 'the static error_page snippet');
  assert.ok(NAMED_403?.includes('error_page 403 = @'), 'the named-location snippet');
});

test("nginx as documented: a 403 reaches the client as nginx's own page, without the service's answer", async (t) => {
  const { upstream, nginx, bearer } = await setUp(t, undefined);
  const answer = await rawRequest(nginx.origin, 'GET', '/admin/users', bearer(['staff']));
  assert.equal(answer.status, 403);
  assert.match(String(answer.headers['content-type']), /^text\/html/);
  assert.equal(answer.headers['www-authenticate'], undefined);
  assert.equal(upstream.requests.length, 0);
});

test('nginx with the static error_page 403 (docs/service.md): JSON and the insufficient_scope challenge', async (t) => {
  const { upstream, nginx, bearer } = await setUp(t, STATIC_403);
  const refused = await rawRequest(nginx.origin, 'GET', '/admin/users', bearer(['staff']));
  assert.equal(refused.status, 403);
  assert.match(String(refused.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(refused.body), {
    code: 'ERR_FORBIDDEN',
    message: 'the token does not allow this request',
  });
  assert.equal(refused.headers['www-authenticate'], 'Bearer error="insufficient_scope"');
  assert.equal(upstream.requests.length, 0, 'refused, yet the upstream was asked');
  // The snippet's location is internal: a client cannot fetch it, nor reach the upstream through it.
  const direct = await rawRequest(nginx.origin, 'GET', '/_cognito_jwt_403', bearer(['admins']));
  assert.equal(direct.status, 404);
  assert.equal(upstream.requests.length, 0);
  upstream.reset();
  await stillAllowsAndChallenges({ upstream, nginx, bearer });
});

test("nginx with error_page 403 = @named (docs/service.md): the service's own 403 answer, byte for byte", async (t) => {
  const { harness, upstream, nginx, bearer } = await setUp(t, NAMED_403);
  const staff = bearer(['staff']);
  const refused = await rawRequest(nginx.origin, 'GET', '/admin/users', staff);
  const expected = await serviceAnswer(harness, staff);
  assert.equal(expected.status, 403, 'the service refuses the route');
  assert.equal(refused.status, 403);
  assert.match(String(refused.headers['content-type']), /^application\/json/);
  assert.equal(refused.body, expected.body);
  assert.equal(JSON.parse(refused.body).code, 'ERR_GROUP_MISSING');
  assert.equal(refused.headers['www-authenticate'], expected.challenge);
  assert.match(String(refused.headers['www-authenticate']), /^Bearer error="insufficient_scope"/);
  assert.equal(upstream.requests.length, 0, 'refused, yet the upstream was asked');
  // A named location keeps the client's method (and the snippet drops its body): a POST too.
  const posted = await rawRequest(nginx.origin, 'POST', '/admin/users', {
    ...staff,
    'content-type': 'application/json',
  });
  assert.equal(posted.status, 403);
  assert.equal(JSON.parse(posted.body).code, 'ERR_GROUP_MISSING');
  assert.equal(upstream.requests.length, 0, 'refused, yet the upstream was asked');
  await stillAllowsAndChallenges({ upstream, nginx, bearer });
});

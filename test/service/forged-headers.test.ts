// What a client adds to an auth request to pass as someone else: its own identity headers in any
// spelling, a second credential, a second copy of a contract header. Sent as raw HTTP/1.1 lines,
// since Node's client would merge or refuse some of them.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { clientMessage } from '../../src/errors.ts';
import { type Harness, startHarness } from './harness.ts';

interface RawAnswer {
  status: number;
  body: string;
  head: string;
}

/** One request written line by line (repeated headers and `_` in names exactly as given). */
async function send(harness: Harness, target: string, lines: readonly string[]): Promise<RawAnswer> {
  const url = new URL(harness.service.url);
  const socket = connect(Number(url.port), url.hostname);
  const request = [`GET ${target} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', ...lines, '', ''];
  socket.end(request.join('\r\n'));
  let text = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) text += chunk;
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  let body = text.slice(split + 4);
  if (/^transfer-encoding: chunked/im.test(head)) {
    let plain = '';
    for (let at = 0; ; ) {
      const end = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.slice(at, end), 16);
      if (!size) break;
      plain += body.slice(end + 2, end + 2 + size);
      at = end + 2 + size + 2;
    }
    body = plain;
  }
  return { status: Number(head.split(' ')[1]), head, body };
}

/** The contract headers of each endpoint, asking about `path`. */
function contract(endpoint: string, path: string): [string, string[]] {
  switch (endpoint) {
    case 'nginx':
      return ['/auth/nginx', ['X-Original-Method: GET', `X-Original-URI: ${path}`]];
    case 'ingress-nginx':
      return [
        '/auth/ingress-nginx',
        ['X-Original-Method: GET', `X-Original-URL: https://app.example.com${path}`],
      ];
    case 'forward':
      return ['/auth/forward', ['X-Forwarded-Method: GET', `X-Forwarded-Uri: ${path}`]];
    default:
      return [`/envoy${path}`, []];
  }
}

const ENDPOINTS = ['nginx', 'ingress-nginx', 'forward', 'envoy'];

/** Every spelling some hop reads as an identity header: case, `_` for `-`, and names the service does not send. */
const SPELLINGS = [
  'X-Auth-Request-User',
  'x-auth-request-groups',
  'X_Auth_Request_Groups',
  'X-Auth_Request-Groups',
  'X_Auth-Request_Email',
  'x-AUTH_request-SUB',
  'X-Auth-Request-Claims',
  'X-Auth-Request-Email-Verified',
  'X_Auth_Request_Tenant',
];

test('an identity header sent by the client, in any spelling, is refused with 400 on every endpoint and route', async (t) => {
  const harness = await startHarness(t);
  const token = harness.access({ groups: ['admins'] });
  for (const endpoint of ENDPOINTS) {
    for (const path of ['/public/page', '/admin/users', '/orders/1']) {
      for (const credentials of [[], [`Authorization: Bearer ${token}`]]) {
        for (const name of SPELLINGS) {
          const [target, lines] = contract(endpoint, path);
          harness.logLines.length = 0;
          const answer = await send(harness, target, [...lines, ...credentials, `${name}: admins`]);
          const what = `${endpoint} ${path} ${name}${credentials.length ? ' with a token' : ''}`;
          assert.equal(answer.status, 400, what);
          assert.deepEqual(
            JSON.parse(answer.body),
            { code: 'ERR_IDENTITY_HEADER_SENT', message: clientMessage('ERR_IDENTITY_HEADER_SENT') },
            what,
          );
          assert.ok(!/x-auth-request/i.test(answer.head), `${what}: no identity header in the answer`);
          const line = JSON.parse(harness.logLines.find((entry) => entry.includes('"decision"'))!);
          assert.equal(line.code, 'ERR_IDENTITY_HEADER_SENT');
          assert.ok(line.detail.includes(name), `${what}: the log names the header (${line.detail})`);
          assert.ok(!line.detail.includes('admins'), 'but not its value');
        }
      }
    }
  }
  // Names that only look alike are the client's business.
  for (const name of ['X-Auth-Requested-By', 'X-Auth-Request', 'X-Auth', 'X-Authorization-Request-User']) {
    const [target, lines] = contract('nginx', '/public/page');
    assert.equal((await send(harness, target, [...lines, `${name}: x`])).status, 200, name);
  }
});

test('two Authorization headers, or two cookies with the token name, are refused with 401 (ERR_TOKEN_AMBIGUOUS)', async (t) => {
  const harness = await startHarness(t, { token: { cookie: 'id_token' } });
  const mine = harness.access({ sub: 'me' });
  const theirs = harness.access({ sub: 'someone-else', groups: ['admins'] });
  const [target, lines] = contract('nginx', '/orders/1');
  const ambiguous = async (extra: string[], what: string) => {
    const answer = await send(harness, target, [...lines, ...extra]);
    assert.equal(answer.status, 401, what);
    assert.equal(JSON.parse(answer.body).code, 'ERR_TOKEN_AMBIGUOUS', what);
    assert.match(answer.head, /WWW-Authenticate: Bearer error="invalid_token"/i, what);
  };
  await ambiguous([`Authorization: Bearer ${mine}`, `Authorization: Bearer ${theirs}`], 'two tokens');
  await ambiguous([`Authorization: Bearer ${mine}`, `authorization: Bearer ${mine}`], 'the same token twice');
  await ambiguous([`Authorization: Bearer ${mine}`, 'Authorization: Basic dXNlcjpwYXNz'], 'bearer and basic');
  await ambiguous([`Cookie: id_token=${mine}; theme=dark; id_token=${theirs}`], 'two cookies in one header');
  await ambiguous([`Cookie: id_token=${mine}`, `Cookie: id_token=${theirs}`], 'two Cookie headers');
  await ambiguous(
    [`Authorization: Bearer ${mine}`, `Cookie: id_token=${mine}; id_token=${theirs}`],
    'two cookies beside an Authorization header',
  );
  // One of each is the documented case: Authorization wins.
  const one = await send(harness, target, [
    ...lines,
    `Authorization: Bearer ${mine}`,
    `Cookie: id_token=${theirs}`,
  ]);
  assert.equal(one.status, 200);
  assert.match(one.head, /x-auth-request-sub: me/i);
  const cookieOnly = await send(harness, target, [...lines, `Cookie: other=1; id_token=${mine}`]);
  assert.equal(cookieOnly.status, 200);
});

test('a contract header sent twice is refused as a misconfigured proxy (500), as a missing one is', async (t) => {
  const harness = await startHarness(t);
  const token = `Authorization: Bearer ${harness.access({ groups: ['admins'] })}`;
  const cases: [string, string[], RegExp][] = [
    [
      '/auth/nginx',
      ['X-Original-Method: GET', 'X-Original-URI: /public/x', 'X-Original-URI: /admin'],
      /2 x-original-uri headers/,
    ],
    [
      '/auth/nginx',
      ['X-Original-Method: GET', 'X-Original-Method: POST', 'X-Original-URI: /orders/1'],
      /2 x-original-method headers/,
    ],
    [
      '/auth/ingress-nginx',
      [
        'X-Original-Method: GET',
        'X-Original-URL: https://a.example.com/public/x',
        'X-Original-URL: https://a.example.com/admin',
      ],
      /2 x-original-url headers/,
    ],
    [
      '/auth/forward',
      ['X-Forwarded-Method: GET', 'X-Forwarded-Uri: /public/x', 'x-forwarded-uri: /admin'],
      /2 x-forwarded-uri headers/,
    ],
    [
      '/auth/forward',
      ['X-Forwarded-Method: GET', 'X-Forwarded-Method: DELETE', 'X-Forwarded-Uri: /orders/1'],
      /2 x-forwarded-method headers/,
    ],
  ];
  for (const [target, lines, detail] of cases) {
    harness.logLines.length = 0;
    const answer = await send(harness, target, [...lines, token]);
    assert.equal(answer.status, 500, `${target} ${lines.join(' | ')}`);
    assert.deepEqual(JSON.parse(answer.body), {
      code: 'ERR_CONFIG_INVALID',
      message: clientMessage('ERR_CONFIG_INVALID'),
    });
    const line = harness.logLines.find((entry) => entry.includes('"decision"'))!;
    assert.match(line, detail);
  }
});

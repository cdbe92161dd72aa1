/**
 * What an unauthenticated client is told never reveals the configuration: for every error code an
 * HTTP adapter can send, through real Express, Fastify and Hono apps on loopback, the body and the
 * headers hold the code and the fixed sentence `clientMessage(code)`, and none of the configured
 * pool id, client id, group, scope or JWKS host, nor anything taken from the token.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  anyOf,
  CognitoJwtError,
  CognitoVerifier,
  clientMessage,
  ERROR_STATUS,
  type ErrorCode,
  requireGroups,
  requirePredicate,
  requireScopes,
  type VerifierConfig,
} from '../../src/index.ts';
import {
  buildJwks,
  generateKeyPair,
  type MintOptions,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
} from '../../src/testing/index.ts';
import { type GuardTable, guardedApps } from '../helpers/adapter-apps.ts';
import { listen, type RunningApp, type SuiteAppOptions } from '../helpers/adapter-suite.ts';
import { tamperPayload } from '../helpers/raw-jwt.ts';

// Every configured value is distinctive, so finding it in an answer cannot be a coincidence.
const POOL = 'local_VaultPool9';
const CLIENT = 'vault-client-7f3a';
const GROUP = 'vault-keepers';
const SCOPE = 'vault/open';
const ADMIN_GROUP = 'vault-admins';
// What the tokens say, which must not be echoed either.
const TOKEN_SUB = 'sub-from-token-91';
const TOKEN_USER = 'ada-from-token';
const TOKEN_GROUP = 'token-group-readers';

const key = generateKeyPair({ kid: 'good-key' });
const weakKey = generateKeyPair({ kid: 'weak-key', modulusLength: 1024 });

/** A JWKS endpoint reached as `localhost`, so the host name is a secret to look for. */
async function jwksHost(respond: (url: string) => { status: number; body: string }): Promise<RunningApp> {
  return listen(
    createServer((request, response) => {
      const { status, body } = respond(request.url ?? '');
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    }),
  );
}

const localhost = (app: RunningApp) => app.origin.replace('127.0.0.1', 'localhost');

let good: RunningApp;
let failing: RunningApp;
let invalid: RunningApp;

before(async () => {
  good = await jwksHost(() => ({ status: 200, body: JSON.stringify(buildJwks(key, weakKey)) }));
  failing = await jwksHost(() => ({ status: 500, body: '{"message":"internal"}' }));
  invalid = await jwksHost(() => ({ status: 200, body: '{"not":"a jwks"}' }));
});
after(async () => {
  await Promise.all([good.close(), failing.close(), invalid.close()]);
});

const issuerOf = (jwks: RunningApp, pool = POOL) => `${localhost(jwks)}/${pool}`;

function configFor(jwks: RunningApp): VerifierConfig {
  return {
    userPoolId: POOL,
    issuer: issuerOf(good),
    jwksUri: `${localhost(jwks)}/${POOL}/.well-known/jwks.json`,
    clientId: CLIENT,
    tokenUse: 'access',
    groups: [GROUP],
  };
}

function mint(options: Partial<MintOptions> = {}): string {
  return mintAccessToken({
    key,
    issuer: issuerOf(good),
    clientId: CLIENT,
    sub: TOKEN_SUB,
    username: TOKEN_USER,
    groups: [GROUP, TOKEN_GROUP],
    scope: `openid ${TOKEN_GROUP}/read`,
    ...options,
  });
}

const now = () => Math.floor(Date.now() / 1000);

/** A guard per error code whose rule throws that code with a message full of configuration. */
const THROWN: GuardTable = Object.fromEntries(
  (Object.keys(ERROR_STATUS) as ErrorCode[]).map((code) => [
    `/thrown/${code}`,
    [
      () => {
        throw new CognitoJwtError(
          code,
          `detail naming ${POOL}, ${CLIENT}, ${GROUP}, ${SCOPE} and ${localhost(good)}`,
        );
      },
    ],
  ]),
);

const GUARDS: GuardTable = {
  '/scope': [requireScopes(SCOPE)],
  '/admin': [requireGroups(ADMIN_GROUP)],
  '/either': [
    anyOf(
      requireGroups(ADMIN_GROUP),
      requirePredicate(() => false, `member of ${GROUP}`),
    ),
  ],
  ...THROWN,
};

interface Scenario {
  name: string;
  code: ErrorCode;
  path?: string;
  headers?: () => Record<string, string>;
  /** Which JWKS endpoint the verifier uses. Default: the good one. */
  jwks?: () => RunningApp;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Real failures, each produced by the real verifier or a real guard. */
const SCENARIOS: Scenario[] = [
  { name: 'no header', code: 'ERR_TOKEN_MISSING' },
  {
    name: 'another scheme',
    code: 'ERR_TOKEN_MISSING',
    headers: () => ({ authorization: 'Basic dmF1bHQ6a2V5' }),
  },
  { name: 'not a JWT', code: 'ERR_TOKEN_MALFORMED', headers: () => bearer('not-a-jwt') },
  { name: 'a refresh token', code: 'ERR_REFRESH_TOKEN_PRESENTED', headers: () => bearer(mintRefreshToken()) },
  {
    name: 'alg HS256',
    code: 'ERR_ALG_UNSUPPORTED',
    headers: () => bearer(mint({ header: { alg: 'HS256' } })),
  },
  {
    name: 'a crit header',
    code: 'ERR_HEADER_UNSUPPORTED',
    headers: () => bearer(mint({ header: { crit: ['exp'] } })),
  },
  {
    name: 'unknown kid',
    code: 'ERR_KEY_NOT_FOUND',
    headers: () => bearer(mint({ header: { kid: 'unknown-1' } })),
  },
  // The first unknown kid finds no keys loaded yet and loads them; the second causes a kid fetch,
  // after which a third waits out the cooldown.
  {
    name: 'another unknown kid',
    code: 'ERR_KEY_NOT_FOUND',
    headers: () => bearer(mint({ header: { kid: 'unknown-2' } })),
  },
  {
    name: 'unknown kid in cooldown',
    code: 'ERR_KID_COOLDOWN',
    headers: () => bearer(mint({ header: { kid: 'unknown-3' } })),
  },
  { name: 'a 1024-bit key', code: 'ERR_KEY_INVALID', headers: () => bearer(mint({ key: weakKey })) },
  {
    name: 'edited groups',
    code: 'ERR_SIGNATURE_INVALID',
    headers: () => bearer(tamperPayload(mint(), { 'cognito:groups': [GROUP, ADMIN_GROUP] })),
  },
  { name: 'expired', code: 'ERR_TOKEN_EXPIRED', headers: () => bearer(mint({ expiresIn: -60 })) },
  {
    name: 'nbf ahead',
    code: 'ERR_TOKEN_NOT_YET_VALID',
    headers: () => bearer(mint({ claims: { nbf: now() + 3600 } })),
  },
  {
    name: 'iat ahead',
    code: 'ERR_TOKEN_ISSUED_IN_FUTURE',
    headers: () => bearer(mint({ now: Date.now() + 3_600_000, expiresIn: 7200 })),
  },
  {
    name: 'sub not a string',
    code: 'ERR_CLAIM_INVALID',
    headers: () => bearer(mint({ claims: { sub: 42 } })),
  },
  {
    name: 'another pool',
    code: 'ERR_ISSUER_MISMATCH',
    headers: () => bearer(mint({ issuer: issuerOf(good, 'local_OtherPool') })),
  },
  {
    name: 'another client',
    code: 'ERR_CLIENT_MISMATCH',
    headers: () => bearer(mint({ clientId: 'other-client' })),
  },
  {
    name: 'an ID token',
    code: 'ERR_TOKEN_USE_MISMATCH',
    headers: () =>
      bearer(mintIdToken({ key, issuer: issuerOf(good), clientId: CLIENT, sub: TOKEN_SUB, groups: [GROUP] })),
  },
  { name: 'revoked', code: 'ERR_TOKEN_REVOKED', headers: () => bearer(mint({ sub: 'revoked-user' })) },
  {
    name: 'group of the config',
    code: 'ERR_GROUP_MISSING',
    headers: () => bearer(mint({ groups: [TOKEN_GROUP] })),
  },
  { name: 'guard group', code: 'ERR_GROUP_MISSING', path: '/admin', headers: () => bearer(mint()) },
  { name: 'guard scope', code: 'ERR_SCOPE_MISSING', path: '/scope', headers: () => bearer(mint()) },
  { name: 'anyOf refuses', code: 'ERR_FORBIDDEN', path: '/either', headers: () => bearer(mint()) },
  {
    name: 'JWKS answers 500',
    code: 'ERR_JWKS_FETCH_FAILED',
    headers: () => bearer(mint()),
    jwks: () => failing,
  },
  {
    name: 'JWKS is not a key set',
    code: 'ERR_JWKS_INVALID',
    headers: () => bearer(mint()),
    jwks: () => invalid,
  },
];

interface Seen {
  code: unknown;
  status: number;
  text: string;
  /** Body and every header value, for the leak check. */
  exposed: string;
  detail: string;
}

/** Run the scenarios and the thrown codes against one framework, collecting what the client saw. */
async function collect(
  framework: keyof typeof guardedApps,
  extra: Partial<SuiteAppOptions> = {},
): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  const apps = new Map<RunningApp, RunningApp>();
  const details: string[] = [];
  const appFor = async (jwks: RunningApp) => {
    let app = apps.get(jwks);
    if (!app) {
      const verifier = new CognitoVerifier(configFor(jwks), {
        isRevoked: (claims) => claims.sub === 'revoked-user',
        verifiedTokenCache: false,
      });
      app = await guardedApps[framework](
        {
          verifier,
          realm: 'vault-api',
          ...extra,
          onError: (error: unknown) => details.push(error instanceof Error ? error.message : String(error)),
        } as SuiteAppOptions,
        GUARDS,
      );
      apps.set(jwks, app);
    }
    return app;
  };
  try {
    const thrown = Object.keys(THROWN).map(
      (path): Scenario => ({
        name: path,
        code: path.slice('/thrown/'.length) as ErrorCode,
        path,
        headers: () => bearer(mint()),
      }),
    );
    for (const scenario of [...SCENARIOS, ...thrown]) {
      const app = await appFor(scenario.jwks?.() ?? good);
      const response = await fetch(`${app.origin}${scenario.path ?? '/me'}`, {
        headers: scenario.headers?.() ?? {},
      });
      const text = await response.text();
      const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
      let code: unknown;
      try {
        code = (JSON.parse(text) as { code?: unknown }).code;
      } catch {
        code = undefined;
      }
      seen.set(scenario.name, {
        code,
        status: response.status,
        text,
        exposed: `${text}\n${headers}`,
        detail: details.at(-1) ?? '',
      });
    }
  } finally {
    await Promise.all([...apps.values()].map((app) => app.close()));
  }
  return seen;
}

const SECRETS = [POOL, CLIENT, GROUP, SCOPE, ADMIN_GROUP, 'localhost', TOKEN_SUB, TOKEN_USER, TOKEN_GROUP];

function leaks(exposed: string): string[] {
  const lower = exposed.toLowerCase();
  const found = SECRETS.filter((secret) => lower.includes(secret.toLowerCase()));
  for (const jwks of [good, failing, invalid]) {
    const port = new URL(jwks.origin).port;
    if (exposed.includes(`:${port}`)) found.push(`JWKS port ${port}`);
  }
  return found;
}

for (const framework of Object.keys(guardedApps) as (keyof typeof guardedApps)[]) {
  describe(`${framework}: what a client is told`, () => {
    test('every code an adapter can send: the code and its fixed sentence, no configuration, nothing from the token', async () => {
      const seen = await collect(framework);
      const codes = new Set<unknown>();
      for (const [name, answer] of seen) {
        const scenario = SCENARIOS.find((candidate) => candidate.name === name);
        const expected = scenario?.code ?? name.slice('/thrown/'.length);
        assert.equal(answer.code, expected, `${name}: ${answer.text}`);
        const code = expected as ErrorCode;
        codes.add(code);
        assert.equal(answer.status, ERROR_STATUS[code], name);
        assert.deepEqual(JSON.parse(answer.text), { code, message: clientMessage(code) }, name);
        assert.deepEqual(leaks(answer.exposed), [], `${name} reveals configuration:\n${answer.exposed}`);
      }
      assert.deepEqual(
        [...codes].sort(),
        Object.keys(ERROR_STATUS).sort(),
        'every code was sent once at least',
      );
    });

    test('the detail stays on the error for onError, and exposeErrorDetail sends it (so the check above can fail)', async () => {
      const plain = await collect(framework);
      const detailed = await collect(framework, { exposeErrorDetail: true });
      for (const name of [
        'another pool',
        'another client',
        'guard group',
        'guard scope',
        'JWKS answers 500',
      ]) {
        const quiet = plain.get(name);
        const loud = detailed.get(name);
        assert.ok(quiet && loud, name);
        assert.notDeepEqual(leaks(quiet.detail), [], `${name}: onError gets the detail (${quiet.detail})`);
        assert.notDeepEqual(leaks(loud.exposed), [], `${name}: exposeErrorDetail sends it`);
      }
    });
  });
}

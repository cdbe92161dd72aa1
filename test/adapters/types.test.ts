/**
 * Type-level tests of the adapters: user code compiled with the project's strict tsconfig
 * against the real sources. Each snippet must compile with no diagnostic; its `@ts-expect-error`
 * lines are the calls that must not compile (an expected error that does not happen is itself a
 * diagnostic, TS2578). Snippets live in memory, so the `AuthRegistry` augmentation of one
 * program cannot leak into the project's own `tsc` run.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const VIRTUAL_DIR = join(ROOT, 'test/adapters/__typecheck__');

function compilerOptions(): ts.CompilerOptions {
  const file = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  // Snippets share one import block; unused imports are not what they test.
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  return { ...options, noEmit: true, noUnusedLocals: false };
}

/** Compile in-memory files (name → text) and return their diagnostics as readable lines. */
function typecheck(files: Record<string, string>): string[] {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const virtual = new Map(Object.entries(files).map(([name, text]) => [join(VIRTUAL_DIR, name), text]));
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, ...rest) => {
    const text = virtual.get(name);
    return text === undefined
      ? getSourceFile.call(host, name, language, ...rest)
      : ts.createSourceFile(name, text, language, true);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  return [...virtual.keys()].flatMap((name) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(name)).map((diagnostic) => {
      const where = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      return `${name.slice(VIRTUAL_DIR.length + 1)}:${(where?.line ?? 0) + 1} TS${diagnostic.code} ${text}`;
    }),
  );
}

const IMPORTS = `
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { cognitoAuth } from '../../../src/adapters/express.ts';
import { cognitoJwt } from '../../../src/adapters/fastify.ts';
import { cognitoAuth as honoAuth } from '../../../src/adapters/hono.ts';
import {
  anyOf,
  type CognitoClaims,
  CognitoVerifier,
  defineRoles,
  requireGroups,
  requirePredicate,
  requireScopes,
} from '../../../src/index.ts';
`;

const PLAIN = `${IMPORTS}
import {
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
  getCallerClaims,
  type APIGatewayProxyEvent,
  type APIGatewayRequestAuthorizerEventV2,
} from '../../../src/adapters/lambda.ts';

const verifier = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' });
const roles = defineRoles({ admin: ['admins'], editor: ['editors', 'admins'] });

// Express: req.auth is typed, narrowed by token_use, and must be checked before use.
const auth = cognitoAuth({ verifier });
const app = express();
app.use(auth);
app.get(
  '/users/:id',
  auth.authorize(anyOf(roles.requireRole('admin'), requirePredicate((claims, req) => claims.sub === req.params.id))),
  (req, res) => {
    const claims: CognitoClaims | undefined = req.auth;
    if (req.auth?.token_use === 'access') {
      const client: string = req.auth.client_id;
      const scope: string | undefined = req.auth.scope;
      res.json({ client, scope });
    } else if (req.auth?.token_use === 'id') {
      const username: string = req.auth['cognito:username'];
      res.json({ username });
    }
    // @ts-expect-error req.auth is absent on anonymous requests: it must be checked first
    req.auth.sub;
    res.json({ sub: claims?.sub });
  },
);
// @ts-expect-error a predicate's context is the Express request, which has no such member
auth.authorize(requirePredicate((_claims, req) => req.notAMember === 1));
// @ts-expect-error the verifier option is required
cognitoAuth({ realm: 'api' });
// @ts-expect-error a guard takes rules, not group names
auth.authorize('admins');

// Fastify: request.auth and the cognito decorator.
const fastify = Fastify();
await fastify.register(cognitoJwt, { verifier, global: false, credentialsRequired: false });
fastify.get(
  '/me',
  { onRequest: fastify.cognito.authenticate, preHandler: fastify.cognito.authorize(requireScopes('orders/read')) },
  async (request) => {
    const sub: string | undefined = request.auth?.sub;
    // @ts-expect-error request.auth is null on anonymous requests
    request.auth.sub;
    return { sub };
  },
);
fastify.cognito.authorize(requirePredicate((claims, request) => claims.sub === request.hostname));
// @ts-expect-error global is a boolean
await fastify.register(cognitoJwt, { verifier, global: 'yes' });

// Hono: c.get('auth') through ContextVariableMap.
const hono = new Hono();
const honoMiddleware = honoAuth({ verifier });
hono.use('*', honoMiddleware);
hono.get('/users/:id', honoMiddleware.authorize(requirePredicate((claims, c) => claims.sub === c.req.param('id'))), (c) => {
  const claims = c.get('auth');
  const sub: string | undefined = claims?.sub;
  // @ts-expect-error c.get('auth') is undefined on anonymous requests
  c.get('auth').sub;
  return c.json({ sub });
});

// Lambda: typed events, results and caller claims.
export const tokenHandler = createTokenAuthorizer({
  verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' },
  rules: [requireGroups('staff'), requirePredicate((claims) => claims.sub !== 'banned', { readsRequest: false })],
});
// @ts-expect-error a TOKEN authorizer is cached by the token alone: it has no cache option
createTokenAuthorizer({ verifier, cache: 'off' });
createRequestAuthorizer({
  verifier,
  rules: [requirePredicate((_claims, event) => event.httpMethod === 'GET', { readsRequest: true })],
  cache: 'per-route',
});
// @ts-expect-error cache is 'per-route' or 'off'
createRequestAuthorizer({ verifier, cache: 'on' });
// onError gets the framework's request, typed; exposeErrorDetail is a boolean.
cognitoAuth({ verifier, onError: (error, req) => console.warn(req.path, error), exposeErrorDetail: false });
// @ts-expect-error exposeErrorDetail is a boolean
cognitoAuth({ verifier, exposeErrorDetail: 'yes' });
const policy = await tokenHandler({ type: 'TOKEN', authorizationToken: 'Bearer x', methodArn: 'arn' });
const effect: 'Allow' | 'Deny' = policy.policyDocument.Statement[0]!.Effect;
declare const v2: APIGatewayRequestAuthorizerEventV2;
const simple = await createHttpApiAuthorizer({ verifier })(v2);
const allowed: boolean = simple.isAuthorized;
// @ts-expect-error a simple response has no policy document
simple.policyDocument;
const iam = await createHttpApiAuthorizer({ verifier, response: 'iam' })(v2);
const statements: unknown[] = iam.policyDocument.Statement;
declare const integration: APIGatewayProxyEvent;
const caller = getCallerClaims(integration);
const groups: string[] = caller.groups;
// @ts-expect-error rules of a TOKEN authorizer see the TOKEN event, which has no headers
createTokenAuthorizer({ verifier, rules: [requirePredicate((_claims, event) => event.headers !== null)] });
export { allowed, effect, groups, statements };
`;

const NARROWED = `${IMPORTS}
import type { CognitoAccessTokenClaims } from '../../../src/index.ts';

declare module '../../../src/index.ts' {
  interface AuthRegistry {
    claims: CognitoAccessTokenClaims;
  }
}

const verifier = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' });
const auth = cognitoAuth({ verifier });
express().get('/orders', auth, auth.authorize(requireScopes('orders/read')), (req, res) => {
  const scope: string | undefined = req.auth?.scope;
  const client: string | undefined = req.auth?.client_id;
  res.json({ scope, client });
});
const fastify = Fastify();
await fastify.register(cognitoJwt, { verifier });
fastify.get('/orders', async (request) => ({ client: request.auth?.client_id }));
const honoMiddleware = honoAuth({ verifier });
new Hono().get('/orders', honoMiddleware, (c) => c.json({ username: c.get('auth')?.username ?? null }));
honoMiddleware.authorize(requirePredicate((claims) => claims.client_id === 'c'));

const idVerifier = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'id' });
// @ts-expect-error requests carry access token claims, so an ID-token verifier does not fit
cognitoAuth({ verifier: idVerifier });
// @ts-expect-error the same holds for the Fastify plugin
await fastify.register(cognitoJwt, { verifier: idVerifier });
`;

test('adapters: typed claims with no casts in user code, and the calls that must not compile', () => {
  assert.deepEqual(typecheck({ 'plain.ts': PLAIN }), []);
});

test('adapters: AuthRegistry narrows req.auth, request.auth and c.get("auth") to access token claims', () => {
  assert.deepEqual(typecheck({ 'narrowed.ts': NARROWED }), []);
});

test('the harness reports errors (the tests above can fail)', () => {
  const diagnostics = typecheck({
    'broken.ts': `${IMPORTS}\nconst auth = cognitoAuth({ verifier: new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' }) });\nexpress().get('/', auth, (req) => req.auth.sub);\n`,
  });
  assert.equal(diagnostics.length, 1, diagnostics.join('\n'));
  assert.match(diagnostics[0] ?? '', /TS18048 'req\.auth' is possibly 'undefined'/);
});

// A Cloudflare Worker (run by workerd, without nodejs_compat) for the edge tests: the shared
// vectors, concurrent requests sharing one JWKS fetch, and the Hono adapter.
import { CognitoVerifier } from 'cognito-jwt';
import { cognitoAuth } from 'cognito-jwt/hono';
import { Hono } from 'hono';
import { runVectors } from './runner.mjs';

/** Verifiers live as long as the isolate, shared by its requests, as in production. */
const verifiers = new Map();
function shared(name, input) {
  if (!verifiers.has(name)) {
    const { userPoolId, clientId, issuer } = input;
    verifiers.set(
      name,
      new CognitoVerifier({ userPoolId, clientId, issuer, tokenUse: 'id' }, { timeoutMs: 1_000 }),
    );
  }
  return verifiers.get(name);
}

async function outcome(promise) {
  try {
    const claims = await promise;
    return { outcome: 'ok', sub: claims.sub };
  } catch (error) {
    return { outcome: error?.code ?? `thrown: ${error}` };
  }
}

let hono;
function honoApp(input) {
  if (!hono) {
    const { userPoolId, clientId, issuer } = input;
    hono = new Hono();
    hono.use('/hono/*', cognitoAuth({ verifier: { userPoolId, clientId, issuer, tokenUse: 'id' } }));
    hono.get('/hono/me', (c) => c.json({ sub: c.get('auth')?.sub }));
  }
  return hono;
}

/** One Hono app per pool, for the shared first fetch through the adapter. */
const honoApps = new Map();
function honoAppFor(input) {
  if (!honoApps.has(input.verifier)) {
    const { userPoolId, clientId, issuer } = input;
    const app = new Hono();
    const verifier = new CognitoVerifier(
      { userPoolId, clientId, issuer, tokenUse: 'id' },
      { timeoutMs: 1_000 },
    );
    app.use('/hono-pool/*', cognitoAuth({ verifier }));
    app.get('/hono-pool/me', (c) => c.json({ sub: c.get('auth')?.sub }));
    honoApps.set(input.verifier, app);
  }
  return honoApps.get(input.verifier);
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/hono-pool/')) {
      // The adapter must hand Hono's executionCtx to verify(): count the promises given to waitUntil.
      let waitUntilCalls = 0;
      const counted = {
        waitUntil(promise) {
          waitUntilCalls++;
          ctx.waitUntil(promise);
        },
        passThroughOnException: () => ctx.passThroughOnException(),
        props: ctx.props,
      };
      const input = JSON.parse(request.headers.get('x-edge-input'));
      const response = await honoAppFor(input).fetch(request, env, counted);
      const answer = new Response(response.body, response);
      answer.headers.set('x-wait-until-calls', String(waitUntilCalls));
      return answer;
    }
    if (url.pathname.startsWith('/hono/')) {
      return honoApp(JSON.parse(request.headers.get('x-edge-input'))).fetch(request, env, ctx);
    }
    const input = await request.json();
    switch (url.pathname) {
      case '/vectors':
        return Response.json(await runVectors(input, ctx));
      case '/verify': {
        // `context: 'none'` leaves the fetch bound to this request alone, as a caller without ctx would.
        const verifier = shared(input.verifier, input);
        const started = Date.now();
        const result = await outcome(
          verifier.verify(input.token, input.context === 'none' ? undefined : ctx),
        );
        return Response.json({ ...result, ms: Date.now() - started });
      }
      case '/start-and-leave': {
        // Start the key fetch and answer at once: the request that started it ends while it runs.
        const verifier = shared(input.verifier, input);
        verifier.verify(input.token, input.context === 'none' ? undefined : ctx).catch(() => {});
        return Response.json({ started: true });
      }
      default:
        return new Response('not found', { status: 404 });
    }
  },
};

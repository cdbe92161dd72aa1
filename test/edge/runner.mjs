// The shared test vectors, run inside a runtime (Node, Bun, Deno, workerd) against the package as
// installed: `cognito-jwt` resolves by that runtime's own export conditions. Plain JavaScript, so
// every runtime loads it as is. Each outcome is 'ok' or an error code.
import { CognitoVerifier, JwksCache } from 'cognito-jwt';

async function outcome(run) {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return typeof error?.code === 'string' ? error.code : `thrown: ${error}`;
  }
}

/** Run `input` (see test/edge/fixture.ts, EdgeInput); `context` is a Workers ExecutionContext, if any. */
export async function runVectors(input, context) {
  const { clientId, issuer, downIssuer, userPoolId } = input;
  const pool = { userPoolId, clientId, issuer, jwksUri: `${issuer}/.well-known/jwks.json` };
  const cache = new JwksCache({ cooldownMs: 60_000 });
  const options = {
    jwksCache: cache,
    verifiedTokenCache: false,
    isRevoked: (claims) => claims.sub === 'revoked-user',
  };
  const verifiers = {
    id: new CognitoVerifier({ ...pool, tokenUse: 'id' }, options),
    access: new CognitoVerifier({ ...pool, tokenUse: 'access' }, options),
    down: new CognitoVerifier(
      {
        userPoolId,
        clientId,
        issuer: downIssuer,
        jwksUri: `${downIssuer}/.well-known/jwks.json`,
        tokenUse: 'id',
      },
      { backoffMs: 0 },
    ),
    pinned: new CognitoVerifier({ ...pool, tokenUse: 'id', jwks: input.snapshot }, { offline: true }),
  };
  const results = {};
  for (const vector of input.vectors) {
    results[vector.name] = await outcome(() => verifiers[vector.use].verify(vector.token, context));
  }
  results['verifySync with keys loaded'] = await outcome(() => verifiers.id.verifySync(input.idToken));
  results['ID token from a pinned snapshot, no network'] = await outcome(() =>
    verifiers.pinned.verify(input.idToken),
  );

  // A snapshot store (Workers KV in production): read before the first fetch, written after one.
  const dead = {
    ...pool,
    issuer,
    jwksUri: 'http://127.0.0.1:9/pool/.well-known/jwks.json',
    tokenUse: 'access',
  };
  const stored = new CognitoVerifier(dead, {
    snapshotStore: {
      load: async () => ({ ...input.snapshot, fetchedAt: new Date().toISOString() }),
      save() {},
    },
    timeoutMs: 500,
  });
  results['access token from the snapshot store, no network'] = await outcome(() =>
    stored.verify(input.accessToken),
  );
  const saved = [];
  const saving = new CognitoVerifier(
    { ...pool, tokenUse: 'id' },
    { snapshotStore: { load: () => undefined, save: (snapshot) => saved.push(snapshot) } },
  );
  results['snapshot store saved after a fetch'] = await outcome(async () => {
    await saving.verify(input.idToken, context);
    for (let i = 0; i < 20 && saved.length === 0; i++) await new Promise((done) => setTimeout(done, 5));
    if (
      saved.length !== 1 ||
      saved[0].jwksUri !== pool.jwksUri ||
      !saved[0].keys.some((key) => key.kid === 'key-a')
    ) {
      throw new Error(`saved ${JSON.stringify(saved).slice(0, 200)}`);
    }
  });
  return results;
}

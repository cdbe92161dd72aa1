import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CognitoJwtError, CognitoVerifier, JwksCache } from '../../src/index.ts';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
  signJwt,
  startJwksServer,
} from '../../src/testing/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { flipSignatureBit, splitToken, tamperPayload } from '../helpers/raw-jwt.ts';

const keyA = generateKeyPair();
const keyB = generateKeyPair();

/** Start one JWKS server per key set, run the test, close them all whatever happens. */
async function withServers(
  keys: Parameters<typeof startJwksServer>[0]['keys'][],
  run: (servers: JwksServer[]) => Promise<void>,
) {
  const servers = await Promise.all(keys.map((set) => startJwksServer({ keys: set })));
  try {
    await run(servers);
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

describe('several pools: the token’s iss selects the config', () => {
  test('each pool’s tokens are judged by that pool’s rules and keys', async () => {
    await withServers([[keyA], [keyB]], async ([a, b]) => {
      const issA = a!.issuer('local_poolA');
      const issB = b!.issuer('local_poolB');
      const verifier = new CognitoVerifier([
        { userPoolId: 'local_poolA', issuer: issA, clientId: 'web', tokenUse: 'id' },
        { userPoolId: 'local_poolB', issuer: issB, clientId: 'api', tokenUse: 'access', groups: 'admin' },
      ]);
      assert.equal(
        (await verifier.verify(mintIdToken({ key: keyA, issuer: issA, clientId: 'web' }))).iss,
        issA,
      );
      assert.equal(
        (
          await verifier.verify(
            mintAccessToken({ key: keyB, issuer: issB, clientId: 'api', groups: ['admin'] }),
          )
        ).iss,
        issB,
      );
      // Pool A only takes ID tokens for "web"; pool B only admins' access tokens for "api".
      await rejectsCode(
        verifier.verify(mintAccessToken({ key: keyA, issuer: issA, clientId: 'web' })),
        'ERR_TOKEN_USE_MISMATCH',
      );
      await rejectsCode(
        verifier.verify(mintIdToken({ key: keyA, issuer: issA, clientId: 'api' })),
        'ERR_CLIENT_MISMATCH',
      );
      await rejectsCode(
        verifier.verify(mintAccessToken({ key: keyB, issuer: issB, clientId: 'api' })),
        'ERR_GROUP_MISSING',
      );
      assert.equal(a!.requestCount, 1);
      assert.equal(b!.requestCount, 1);
      // Pool A's key cannot sign for pool B: B's JWKS does not hold it, and A's server is not asked.
      await rejectsCode(
        verifier.verify(mintAccessToken({ key: keyA, issuer: issB, clientId: 'api', groups: ['admin'] })),
        'ERR_KEY_NOT_FOUND',
      );
      assert.equal(a!.requestCount, 1);
    });
  });

  test('an iss no config accepts is refused before any key lookup: zero requests', async () => {
    await withServers([[keyA], [keyA]], async ([pool, other]) => {
      const issuer = pool!.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      const foreign = [
        other!.issuer('local_pool'),
        pool!.issuer('local_other'),
        `${issuer}/`,
        issuer.toUpperCase(),
        issuer.replace('127.0.0.1', 'localhost'),
        `${issuer}\u0000`,
        'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other',
      ];
      for (const iss of foreign) {
        const error = await rejectsCode(
          verifier.verify(mintIdToken({ key: keyA, issuer: iss, clientId: 'c1' })),
          'ERR_ISSUER_MISMATCH',
          {
            claim: 'iss',
            status: 401,
          },
        );
        assert.ok(error.message.includes(`(expected "${issuer}")`), error.message);
      }
      for (const iss of [undefined, 42, null, [issuer], { issuer }]) {
        await rejectsCode(
          verifier.verify(mintIdToken({ key: keyA, clientId: 'c1', claims: { iss } })),
          'ERR_ISSUER_MISMATCH',
        );
      }
      assert.equal(pool!.requestCount, 0);
      assert.equal(other!.requestCount, 0);
    });
  });
});

describe('verify() and verifySync()', () => {
  test('verifySync() before any key is loaded throws ERR_KEYS_NOT_LOADED (503) without a request', async () => {
    await withServers([[keyA]], async ([server]) => {
      const issuer = server!.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      const token = mintIdToken({ key: keyA, issuer, clientId: 'c1' });
      const error = throwsCode(() => verifier.verifySync(token), 'ERR_KEYS_NOT_LOADED', {
        status: 503,
        name: 'CognitoJwtError',
      });
      assert.match(error.message, /call hydrate\(\) first, load a snapshot, or use verify\(\)/);
      assert.equal(server!.requestCount, 0);
    });
  });

  test('hydrate() loads every configured pool; then verifySync() works offline', async () => {
    await withServers([[keyA], [keyB]], async ([a, b]) => {
      const issA = a!.issuer('local_poolA');
      const issB = b!.issuer('local_poolB');
      const verifier = new CognitoVerifier([
        { userPoolId: 'local_poolA', issuer: issA, clientId: 'c1', tokenUse: 'id' },
        { userPoolId: 'local_poolB', issuer: issB, clientId: 'c1', tokenUse: 'access' },
      ]);
      await verifier.hydrate();
      assert.equal(a!.requestCount, 1);
      assert.equal(b!.requestCount, 1);
      assert.equal(
        verifier.verifySync(mintIdToken({ key: keyA, issuer: issA, clientId: 'c1' })).token_use,
        'id',
      );
      assert.equal(
        verifier.verifySync(mintAccessToken({ key: keyB, issuer: issB, clientId: 'c1' })).token_use,
        'access',
      );
      // verifySync never fetches: an unknown kid is not found, and no request is made.
      const stranger = generateKeyPair();
      throwsCode(
        () => verifier.verifySync(mintIdToken({ key: stranger, issuer: issA, clientId: 'c1' })),
        'ERR_KEY_NOT_FOUND',
        {
          message: 'verifySync() never fetches',
        },
      );
      assert.equal(a!.requestCount + b!.requestCount, 2);
    });
  });

  test('verify() fetches on first use; verifySync() then works with the loaded keys', async () => {
    await withServers([[keyA]], async ([server]) => {
      const issuer = server!.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      await verifier.verify(mintIdToken({ key: keyA, issuer, clientId: 'c1' }));
      assert.ok(verifier.verifySync(mintIdToken({ key: keyA, issuer, clientId: 'c1' })));
      assert.equal(server!.requestCount, 1);
    });
  });

  test('a snapshot given as an object is loaded at construction: no request at all', async () => {
    await withServers([[keyA]], async ([server]) => {
      const issuer = server!.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
        jwks: buildJwks(keyA),
      });
      assert.ok(verifier.verifySync(mintIdToken({ key: keyA, issuer, clientId: 'c1' })));
      assert.ok(await verifier.verify(mintIdToken({ key: keyA, issuer, clientId: 'c1' })));
      assert.equal(server!.requestCount, 0);
    });
  });

  test('a snapshot given as a file path is read at construction: no request at all', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cognito-jwt-snapshot-'));
    try {
      const file = join(folder, 'jwks.json');
      await writeFile(file, JSON.stringify(buildJwks(keyA)));
      await withServers([[keyA]], async ([server]) => {
        const issuer = server!.issuer('local_pool');
        const verifier = new CognitoVerifier({
          userPoolId: 'local_pool',
          issuer,
          clientId: 'c1',
          tokenUse: 'id',
          jwks: file,
        });
        assert.ok(verifier.verifySync(mintIdToken({ key: keyA, issuer, clientId: 'c1' })));
        assert.equal(server!.requestCount, 0);
      });

      const config = {
        userPoolId: 'local_pool',
        issuer: 'http://127.0.0.1:9/local_pool',
        clientId: 'c1',
        tokenUse: 'id',
      } as const;
      // A snapshot named in the config is configuration: one that cannot be used fails construction (500).
      throwsCode(
        () => new CognitoVerifier({ ...config, jwks: join(folder, 'missing.json') }),
        'ERR_CONFIG_INVALID',
        {
          message: 'could not read the JWKS snapshot',
        },
      );
      await writeFile(join(folder, 'broken.json'), '{"keys": [');
      throwsCode(
        () => new CognitoVerifier({ ...config, jwks: join(folder, 'broken.json') }),
        'ERR_CONFIG_INVALID',
      );
      await writeFile(join(folder, 'empty.json'), '{"keys": []}');
      throwsCode(
        () => new CognitoVerifier({ ...config, jwks: join(folder, 'empty.json') }),
        'ERR_CONFIG_INVALID',
        {
          message: 'holds no usable key',
        },
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  test('a JWKS that cannot be fetched is a 503, not a 401', async () => {
    const server = await startJwksServer({ keys: [keyA] });
    const issuer = server.issuer('local_pool');
    await server.close();
    const verifier = new CognitoVerifier(
      { userPoolId: 'local_pool', issuer, clientId: 'c1', tokenUse: 'id' },
      { timeoutMs: 2_000 },
    );
    await rejectsCode(
      verifier.verify(mintIdToken({ key: keyA, issuer, clientId: 'c1' })),
      'ERR_JWKS_FETCH_FAILED',
      { status: 503 },
    );
    await rejectsCode(verifier.hydrate(), 'ERR_JWKS_FETCH_FAILED', { status: 503 });
  });

  test('verifiers sharing a JwksCache share its keys and its fetches', async () => {
    await withServers([[keyA]], async ([server]) => {
      const issuer = server!.issuer('local_pool');
      const jwksCache = new JwksCache();
      const ids = new CognitoVerifier(
        { userPoolId: 'local_pool', issuer, clientId: 'c1', tokenUse: 'id' },
        { jwksCache },
      );
      const access = new CognitoVerifier(
        { userPoolId: 'local_pool', issuer, clientId: 'c1', tokenUse: 'access' },
        { jwksCache },
      );
      await Promise.all([
        ids.verify(mintIdToken({ key: keyA, issuer, clientId: 'c1' })),
        access.verify(mintAccessToken({ key: keyA, issuer, clientId: 'c1' })),
      ]);
      assert.ok(access.verifySync(mintAccessToken({ key: keyA, issuer, clientId: 'c1' })));
      assert.equal(server!.requestCount, 1);
    });
  });
});

describe('input from JavaScript', () => {
  test('a non-string token is ERR_TOKEN_MALFORMED from both entry points; verify() rejects, never throws', async () => {
    const verifier = new CognitoVerifier({
      userPoolId: 'local_pool',
      issuer: 'http://127.0.0.1:9/local_pool',
      clientId: 'c1',
      tokenUse: 'id',
      jwks: buildJwks(keyA),
    });
    const tricky = {
      toString: () => mintIdToken({ key: keyA, issuer: 'http://127.0.0.1:9/local_pool', clientId: 'c1' }),
    };
    for (const value of [undefined, null, 42, {}, ['a.b.c'], Symbol('token'), tricky, Buffer.from('a.b.c')]) {
      const token = value as unknown as string;
      throwsCode(() => verifier.verifySync(token), 'ERR_TOKEN_MALFORMED', { message: 'must be a string' });
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        pending = verifier.verify(token);
      });
      await rejectsCode(pending!, 'ERR_TOKEN_MALFORMED');
    }
  });
});

describe('claims are looked at only after the signature checks out', () => {
  const issuer = 'http://127.0.0.1:9/local_pool';
  const verifier = new CognitoVerifier({
    userPoolId: 'local_pool',
    issuer,
    clientId: 'c1',
    tokenUse: 'id',
    groups: 'admin',
    jwks: buildJwks(keyA),
  });

  const failingClaims: [string, Record<string, unknown>, string][] = [
    ['expired', { exp: 1 }, 'ERR_TOKEN_EXPIRED'],
    ['not yet valid', { nbf: 4_000_000_000 }, 'ERR_TOKEN_NOT_YET_VALID'],
    ['for another client', { aud: 'c2' }, 'ERR_CLIENT_MISMATCH'],
    ['an access token', { token_use: 'access', client_id: 'c1' }, 'ERR_TOKEN_USE_MISMATCH'],
    ['without the group', { 'cognito:groups': ['users'] }, 'ERR_GROUP_MISSING'],
    ['without exp', { exp: undefined }, 'ERR_CLAIM_INVALID'],
  ];
  for (const [what, claims, codeWhenSigned] of failingClaims) {
    test(`a token ${what} with a bad signature is ERR_SIGNATURE_INVALID (with a good one: ${codeWhenSigned})`, async () => {
      const signed = mintIdToken({ key: keyA, issuer, clientId: 'c1', groups: ['admin'], claims });
      throwsCode(() => verifier.verifySync(signed), codeWhenSigned as CognitoJwtError['code']);
      throwsCode(() => verifier.verifySync(flipSignatureBit(signed)), 'ERR_SIGNATURE_INVALID');
      await rejectsCode(verifier.verify(flipSignatureBit(signed)), 'ERR_SIGNATURE_INVALID');
      const forged = tamperPayload(
        mintIdToken({ key: keyA, issuer, clientId: 'c1', groups: ['admin'] }),
        claims,
      );
      await rejectsCode(verifier.verify(forged), 'ERR_SIGNATURE_INVALID');
    });
  }
});

describe('error messages never contain the token or its signature', () => {
  test('for every kind of failure, neither the message nor its causes echo any part of the token', async () => {
    await withServers([[keyA]], async ([server]) => {
      const issuer = server!.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
        groups: 'admin',
        scopes: 'x/y',
      });
      const mint = (options: Partial<Parameters<typeof mintIdToken>[0]> = {}) =>
        mintIdToken({ key: keyA, issuer, clientId: 'c1', groups: ['admin'], ...options });
      const stranger = generateKeyPair();
      const tokens = [
        flipSignatureBit(mint()),
        tamperPayload(mint(), { sub: 'x' }),
        mint({ expiresIn: -10 }),
        mint({ clientId: 'other' }),
        mint({ groups: ['users'] }),
        mint(),
        mint({ claims: { iat: 4_000_000_000, exp: 4_000_000_100 } }),
        mint({ issuer: 'https://evil.example.com/pool' }),
        mint({ key: stranger }),
        mint({ header: { alg: 'HS256' } }),
        mint({ header: { crit: ['exp'] } }),
        signJwt({ alg: 'RS256' }, { iss: issuer }, keyA.privateKey),
        mintAccessToken({ key: keyA, issuer, clientId: 'c1' }),
        `${mint()}.${mint()}`,
        `${mint()} `,
        mintRefreshToken(),
      ];
      const seen = new Set<string>();
      for (const token of tokens) {
        const caught = await verifier.verify(token).then(
          () => assert.fail('the token was accepted'),
          (failure: unknown) => failure,
        );
        assert.ok(caught instanceof CognitoJwtError, String(caught));
        seen.add(caught.code);
        const texts: string[] = [];
        for (let item: unknown = caught; item instanceof Error; item = item.cause)
          texts.push(item.message, String(item));
        const segments = token.split(/[.\s]/).filter((segment) => segment.length >= 16);
        for (const segment of segments) {
          for (let start = 0; start + 16 <= segment.length; start += 8) {
            const window = segment.slice(start, start + 16);
            for (const text of texts)
              assert.equal(text.includes(window), false, `${caught.code} echoes the token: ${text}`);
          }
        }
      }
      assert.ok(seen.size >= 12, `expected many different failures, saw ${[...seen].join(', ')}`);
    });
  });
});

describe('the payload segment decoded by the verifier is the one signed', () => {
  test('re-encoding a payload with the same claims in another order breaks the signature', async () => {
    const issuer = 'http://127.0.0.1:9/local_pool';
    const verifier = new CognitoVerifier({
      userPoolId: 'local_pool',
      issuer,
      clientId: 'c1',
      tokenUse: 'id',
      jwks: buildJwks(keyA),
    });
    const token = mintIdToken({ key: keyA, issuer, clientId: 'c1' });
    const [header, payload, signature] = splitToken(token);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(claims).reverse());
    const reencoded = Buffer.from(JSON.stringify(reordered)).toString('base64url');
    assert.notEqual(reencoded, payload);
    await rejectsCode(verifier.verify(`${header}.${reencoded}.${signature}`), 'ERR_SIGNATURE_INVALID');
  });
});

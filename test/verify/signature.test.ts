import assert from 'node:assert/strict';
import { constants, createHmac, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { CognitoVerifier } from '../../src/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_POOL_ID,
  generateKeyPair,
  mintIdToken,
  signJwt,
  startJwksServer,
} from '../../src/testing/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { base64url, flipSignatureBit, splitToken, tamperPayload } from '../helpers/raw-jwt.ts';

const key = generateKeyPair();
const issuer = `https://cognito-idp.us-east-1.amazonaws.com/${DEFAULT_TEST_POOL_ID}`;

function snapshotVerifier() {
  const network = noFetch();
  const verifier = new CognitoVerifier(
    { userPoolId: DEFAULT_TEST_POOL_ID, clientId: 'c1', tokenUse: 'id', jwks: buildJwks(key) },
    { fetch: network.fetch },
  );
  return { verifier, network };
}

/** A valid ID token's claims, to sign with any header. */
function claims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'u1', iss: issuer, aud: 'c1', token_use: 'id', iat: now, exp: now + 600 };
}

/** Both entry points must refuse the token with the same code. */
async function bothRefuse(
  verifier: CognitoVerifier,
  token: string,
  code: Parameters<typeof throwsCode>[1],
  expected: Parameters<typeof throwsCode>[2] = {},
) {
  throwsCode(() => verifier.verifySync(token), code, expected);
  await rejectsCode(verifier.verify(token), code, expected);
}

describe('alg: RS256 and nothing else', () => {
  test('an unsigned alg "none" token (empty signature) is refused as an unsupported alg', async () => {
    const { verifier, network } = snapshotVerifier();
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const token = `${base64url(JSON.stringify({ alg, kid: key.kid }))}.${base64url(JSON.stringify(claims()))}.`;
      await bothRefuse(verifier, token, 'ERR_ALG_UNSUPPORTED', { claim: 'alg', status: 401 });
    }
    assert.deepEqual(network.urls, []);
  });

  test('alg "none" with a real RS256 signature still fails on alg (the header decides nothing)', async () => {
    const { verifier } = snapshotVerifier();
    await bothRefuse(
      verifier,
      signJwt({ alg: 'none', kid: key.kid }, claims(), key.privateKey),
      'ERR_ALG_UNSUPPORTED',
      {
        message: 'alg must be "RS256", found "none"',
      },
    );
  });

  test('HS256 signed with the RSA public key as the HMAC secret (algorithm confusion) is refused', async () => {
    const { verifier, network } = snapshotVerifier();
    const secrets = [
      key.publicKey.export({ type: 'spki', format: 'pem' }),
      key.publicKey.export({ type: 'pkcs1', format: 'pem' }),
      JSON.stringify(key.publicJwk),
    ];
    for (const secret of secrets) {
      const input = `${base64url(JSON.stringify({ alg: 'HS256', kid: key.kid }))}.${base64url(JSON.stringify(claims()))}`;
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      const attack = `${input}.${mac}`;
      // The forgery is real: a verifier that let the header pick HMAC with "the key" would accept it.
      assert.equal(
        createHmac('sha256', secret).update(splitToken(attack).slice(0, 2).join('.')).digest('base64url'),
        mac,
      );
      await bothRefuse(verifier, attack, 'ERR_ALG_UNSUPPORTED', { claim: 'alg', message: 'found "HS256"' });
      // The same HMAC under an RS256 header is just a wrong (32-byte) signature.
      const relabelled = `${base64url(JSON.stringify({ alg: 'RS256', kid: key.kid }))}.${base64url(JSON.stringify(claims()))}`;
      await bothRefuse(
        verifier,
        `${relabelled}.${createHmac('sha256', secret).update(relabelled).digest('base64url')}`,
        'ERR_SIGNATURE_INVALID',
      );
    }
    assert.deepEqual(network.urls, []);
  });

  test('RS512 with a genuine RS512 signature by the right key is refused', async () => {
    const { verifier } = snapshotVerifier();
    const input = `${base64url(JSON.stringify({ alg: 'RS512', kid: key.kid }))}.${base64url(JSON.stringify(claims()))}`;
    const token = `${input}.${sign('sha512', Buffer.from(input), key.privateKey).toString('base64url')}`;
    await bothRefuse(verifier, token, 'ERR_ALG_UNSUPPORTED', { message: 'found "RS512"' });
  });

  for (const alg of [
    'RS384',
    'PS256',
    'ES256',
    'HS512',
    'rs256',
    'RS256 ',
    '',
    null,
    256,
    ['RS256'],
    undefined,
  ]) {
    test(`alg ${JSON.stringify(alg)} is refused`, async () => {
      const { verifier } = snapshotVerifier();
      const header: Record<string, unknown> = { kid: key.kid };
      if (alg !== undefined) header.alg = alg;
      await bothRefuse(verifier, signJwt(header, claims(), key.privateKey), 'ERR_ALG_UNSUPPORTED', {
        claim: 'alg',
      });
    });
  }
});

describe('kid', () => {
  test('is required', async () => {
    const { verifier } = snapshotVerifier();
    await bothRefuse(verifier, signJwt({ alg: 'RS256' }, claims(), key.privateKey), 'ERR_TOKEN_MALFORMED', {
      claim: 'kid',
      message: 'the header needs a kid',
    });
  });

  for (const kid of ['', 42, null, [`${'k'}`], { id: 'k' }]) {
    test(`kid ${JSON.stringify(kid)} is refused`, async () => {
      const { verifier } = snapshotVerifier();
      await bothRefuse(
        verifier,
        signJwt({ alg: 'RS256', kid }, claims(), key.privateKey),
        'ERR_TOKEN_MALFORMED',
        {
          claim: 'kid',
        },
      );
    });
  }

  test('is capped at 256 characters: 257 is malformed, 256 is looked up (and not found)', async () => {
    const { verifier, network } = snapshotVerifier();
    await bothRefuse(
      verifier,
      signJwt({ alg: 'RS256', kid: 'k'.repeat(257) }, claims(), key.privateKey),
      'ERR_TOKEN_MALFORMED',
      {
        claim: 'kid',
      },
    );
    throwsCode(
      () => verifier.verifySync(signJwt({ alg: 'RS256', kid: 'k'.repeat(256) }, claims(), key.privateKey)),
      'ERR_KEY_NOT_FOUND',
      {
        claim: 'kid',
      },
    );
    assert.deepEqual(network.urls, []);
  });

  test('is matched exactly, through a Map: "__proto__", "constructor" and near-misses find no key', () => {
    const { verifier } = snapshotVerifier();
    const near = [`${key.kid} `, key.kid.toLowerCase(), key.kid.slice(0, -1), `${key.kid}x`];
    for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', ...near]) {
      throwsCode(
        () => verifier.verifySync(signJwt({ alg: 'RS256', kid }, claims(), key.privateKey)),
        'ERR_KEY_NOT_FOUND',
        {
          claim: 'kid',
        },
      );
    }
  });

  test('a key whose kid is "__proto__" is an ordinary key', async () => {
    const odd = generateKeyPair({ kid: '__proto__' });
    const verifier = new CognitoVerifier(
      { userPoolId: DEFAULT_TEST_POOL_ID, clientId: 'c1', tokenUse: 'id', jwks: buildJwks(odd, key) },
      { fetch: noFetch().fetch },
    );
    assert.equal((await verifier.verify(mintIdToken({ key: odd, clientId: 'c1' }))).aud, 'c1');
    assert.deepEqual(verifier.jwksCache.inspect(verifier.issuers[0]!.jwksUri).kids, ['__proto__', key.kid]);
  });
});

describe('crit and b64', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ crit: ['exp'], exp: 1 }, 'crit'],
    [{ crit: [] }, 'crit'],
    [{ crit: null }, 'crit'],
    [{ b64: false, crit: ['b64'] }, 'crit'],
    [{ b64: false }, 'b64'],
    [{ b64: true }, 'b64'],
  ];
  for (const [extra, member] of cases) {
    test(`a header with ${JSON.stringify(extra)} is refused on "${member}"`, async () => {
      const { verifier } = snapshotVerifier();
      await bothRefuse(
        verifier,
        signJwt({ alg: 'RS256', kid: key.kid, ...extra }, claims(), key.privateKey),
        'ERR_HEADER_UNSUPPORTED',
        {
          claim: member,
          status: 401,
          message: `the header member "${member}" is not supported`,
        },
      );
    });
  }

  test('other unknown header members (typ, cty, x-anything) are ignored', async () => {
    const { verifier } = snapshotVerifier();
    const token = signJwt(
      { alg: 'RS256', kid: key.kid, typ: 'JWT', cty: 'x', 'x-anything': { a: 1 } },
      claims(),
      key.privateKey,
    );
    assert.equal((await verifier.verify(token)).sub, 'u1');
  });
});

describe('jku, x5u, jwk and x5c are never used', () => {
  test('an attacker key in jwk and a URL in jku/x5u: no request reaches the attacker and the token is refused', async () => {
    const attacker = generateKeyPair();
    const pool = await startJwksServer({ keys: [key] });
    const evil = await startJwksServer({ keys: [attacker] });
    try {
      const poolIssuer = pool.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer: poolIssuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      const embedded = {
        jku: evil.jwksUri('local_pool'),
        x5u: `${evil.origin}/cert.pem`,
        jwk: attacker.publicJwk,
        x5c: [attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')],
      };
      const ownKid = mintIdToken({ key: attacker, issuer: poolIssuer, clientId: 'c1', header: embedded });
      await rejectsCode(verifier.verify(ownKid), 'ERR_KEY_NOT_FOUND', { claim: 'kid' });

      const poolKid = mintIdToken({
        key: attacker,
        issuer: poolIssuer,
        clientId: 'c1',
        header: { ...embedded, kid: key.kid },
      });
      await rejectsCode(verifier.verify(poolKid), 'ERR_SIGNATURE_INVALID', { status: 401 });

      // The pool's own tokens carrying the same members still verify: the members are ignored, not feared.
      const genuine = mintIdToken({ key, issuer: poolIssuer, clientId: 'c1', header: embedded });
      assert.equal((await verifier.verify(genuine)).aud, 'c1');

      assert.equal(evil.requestCount, 0);
      assert.equal(pool.requestCount, 1);
    } finally {
      await Promise.all([pool.close(), evil.close()]);
    }
  });
});

describe('the signature', () => {
  test('a valid token verifies through both entry points', async () => {
    const { verifier } = snapshotVerifier();
    const token = mintIdToken({ key, clientId: 'c1' });
    assert.equal(verifier.verifySync(token).aud, 'c1');
    assert.equal((await verifier.verify(token)).aud, 'c1');
  });

  test('verifications started together (checked on the thread pool) refuse bad signatures too', async () => {
    const { verifier } = snapshotVerifier();
    const good = Array.from({ length: 6 }, () => mintIdToken({ key, clientId: 'c1' }));
    const bad = Array.from({ length: 6 }, () => flipSignatureBit(mintIdToken({ key, clientId: 'c1' })));
    const results = await Promise.allSettled([...good, ...bad].map((token) => verifier.verify(token)));
    assert.deepEqual(
      results.map((result) =>
        result.status === 'fulfilled' ? 'ok' : (result.reason as { code: string }).code,
      ),
      [...good.map(() => 'ok'), ...bad.map(() => 'ERR_SIGNATURE_INVALID')],
    );
    const badFirst = await Promise.allSettled([...bad, ...good].map((token) => verifier.verify(token)));
    assert.deepEqual(
      badFirst.map((result) => result.status),
      [...bad.map(() => 'rejected'), ...good.map(() => 'fulfilled')],
    );
  });

  test('a tampered payload is refused', async () => {
    const { verifier } = snapshotVerifier();
    const token = mintIdToken({ key, clientId: 'c1', groups: ['users'] });
    await bothRefuse(
      verifier,
      tamperPayload(token, { 'cognito:groups': ['admin'] }),
      'ERR_SIGNATURE_INVALID',
      {
        message: 'the signature does not match the token',
      },
    );
    await bothRefuse(verifier, tamperPayload(token, { sub: 'someone-else' }), 'ERR_SIGNATURE_INVALID');
  });

  test('a tampered header is refused (the header is signed too)', async () => {
    const { verifier } = snapshotVerifier();
    const [, payload, signature] = splitToken(mintIdToken({ key, clientId: 'c1' }));
    const header = base64url(JSON.stringify({ alg: 'RS256', kid: key.kid, typ: 'JWT' }));
    await bothRefuse(verifier, `${header}.${payload}.${signature}`, 'ERR_SIGNATURE_INVALID');
  });

  test('one flipped signature bit is refused', async () => {
    const { verifier } = snapshotVerifier();
    await bothRefuse(
      verifier,
      flipSignatureBit(mintIdToken({ key, clientId: 'c1' })),
      'ERR_SIGNATURE_INVALID',
    );
  });

  test('a truncated, extended or empty signature is refused', async () => {
    const { verifier } = snapshotVerifier();
    const [header, payload, signature] = splitToken(mintIdToken({ key, clientId: 'c1' }));
    const bytes = Buffer.from(signature, 'base64url');
    for (const changed of [
      bytes.subarray(0, -1),
      bytes.subarray(0, 128),
      Buffer.concat([bytes, Buffer.from([0])]),
      Buffer.alloc(0),
    ]) {
      await bothRefuse(
        verifier,
        `${header}.${payload}.${changed.toString('base64url')}`,
        'ERR_SIGNATURE_INVALID',
      );
    }
  });

  test('a signature by another key that claims the same kid is refused', async () => {
    const { verifier } = snapshotVerifier();
    const impostor = generateKeyPair({ kid: key.kid });
    await bothRefuse(verifier, mintIdToken({ key: impostor, clientId: 'c1' }), 'ERR_SIGNATURE_INVALID');
  });

  test("one token's signature on another token's contents is refused", async () => {
    const { verifier } = snapshotVerifier();
    const [header, payload] = splitToken(mintIdToken({ key, clientId: 'c1', sub: 'alice' }));
    const [, , signature] = splitToken(mintIdToken({ key, clientId: 'c1', sub: 'bob' }));
    await bothRefuse(verifier, `${header}.${payload}.${signature}`, 'ERR_SIGNATURE_INVALID');
  });

  test('an RSA-PSS signature by the right key under an RS256 header is refused (PKCS#1 v1.5 only)', async () => {
    const { verifier } = snapshotVerifier();
    const [header, payload] = splitToken(mintIdToken({ key, clientId: 'c1' }));
    const pss = sign('sha256', Buffer.from(`${header}.${payload}`), {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
    });
    await bothRefuse(verifier, `${header}.${payload}.${pss.toString('base64url')}`, 'ERR_SIGNATURE_INVALID');
  });
});

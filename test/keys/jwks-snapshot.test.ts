import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { JwksCache, type JwksCacheOptions, type JwksSnapshot } from '../../src/keys/jwks-cache.ts';
import {
  buildJwks,
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  type TestKeyPair,
} from '../../src/testing/index.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import {
  type FaultServer,
  manualClock,
  recordEvents,
  settle,
  startFaultServer,
} from '../helpers/fault-server.ts';

const [a, b] = [generateKeyPair(), generateKeyPair()] as [TestKeyPair, TestKeyPair];
const HOUR = 3_600_000;
const POOL = 'local_SnapPool';

interface Setup {
  server: FaultServer;
  uri: string;
  dir: string;
  time: ReturnType<typeof manualClock>;
  cache(options?: JwksCacheOptions): JwksCache;
}

async function setup(t: TestContext, keys: TestKeyPair[] = [a, b]): Promise<Setup> {
  const server = await startFaultServer({ keys });
  const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-snapshot-'));
  t.after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  });
  const time = manualClock();
  return {
    server,
    uri: server.jwksUri(POOL),
    dir,
    time,
    cache: (options = {}) => new JwksCache({ clock: time.clock, ...options }),
  };
}

function snapshotAged(uri: string, now: number, ageMs: number, keys = [a, b]): JwksSnapshot {
  return { jwksUri: uri, fetchedAt: new Date(now - ageMs).toISOString(), ...buildJwks(...keys) };
}

describe('JwksCache snapshots', () => {
  test('saved to a file and loaded back into another cache: same keys, same fetchedAt, no request', async (t) => {
    const { server, uri, dir, time, cache } = await setup(t);
    const first = cache();
    await first.load(uri);
    const file = join(dir, 'jwks.json');
    await first.saveSnapshot(uri, file);
    assert.deepEqual(readdirSync(dir), ['jwks.json']); // written atomically: no temporary file left
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(saved, {
      jwksUri: uri,
      fetchedAt: new Date(time.now).toISOString(),
      keys: [a.publicJwk, b.publicJwk].map(({ kty, kid, n, e, alg, use }) => ({ kty, kid, n, e, alg, use })),
    });

    time.advance(60_000);
    const second = cache();
    second.loadSnapshot(uri, file);
    assert.deepEqual(second.inspect(uri).kids, [a.kid, b.kid]);
    assert.equal(second.inspect(uri).fetchedAt?.toISOString(), saved.fetchedAt);
    assert.equal(second.inspect(uri).state, 'fresh');
    assert.equal((await second.getKey(uri, b.kid)).kid, b.kid);
    assert.equal(server.requestCount, 1);
  });

  test('a snapshot older than the max age is used at once and refreshed in the background', async (t) => {
    const { server, uri, time, cache } = await setup(t);
    const keys = cache();
    keys.loadSnapshot(uri, snapshotAged(uri, time.now, 3 * HOUR, [a]));
    server.setKeys([a, b]);
    assert.equal(keys.inspect(uri).state, 'stale');
    assert.equal(keys.getKeySync(uri, a.kid)?.kid, a.kid);
    await settle(keys, uri);
    assert.equal(server.requestCount, 1);
    assert.equal(keys.inspect(uri).state, 'fresh');
    assert.deepEqual(keys.inspect(uri).kids, [a.kid, b.kid]);
  });

  test('a snapshot older than max age + stale-if-error is not trusted without a successful fetch', async (t) => {
    const { server, uri, time, cache } = await setup(t);
    server.behave({ kind: 'status', status: 503 });
    const keys = cache();
    keys.loadSnapshot(uri, snapshotAged(uri, time.now, 25 * HOUR));
    assert.equal(keys.inspect(uri).state, 'expired');
    assert.equal(keys.inspect(uri).usable, false);
    await assert.rejects(keys.getKey(uri, a.kid), { code: 'ERR_JWKS_FETCH_FAILED', status: 503 });
    server.behave({ kind: 'jwks' });
    time.advance(2_000);
    assert.equal((await keys.getKey(uri, a.kid)).kid, a.kid);
  });

  test('a JWKS without fetchedAt counts its age from when it is loaded; a future fetchedAt counts as now', async (t) => {
    const { uri, time, cache } = await setup(t);
    const keys = cache();
    keys.loadSnapshot(uri, buildJwks(a));
    assert.equal(keys.inspect(uri).fetchedAt?.getTime(), time.now);
    keys.loadSnapshot(uri, { ...buildJwks(a), fetchedAt: new Date(time.now + 10 * HOUR).toISOString() });
    assert.equal(keys.inspect(uri).fetchedAt?.getTime(), time.now);
  });

  test('pinned: used as is however old, never fetched, unknown kids fail without a request', async (t) => {
    const { server, uri, time, cache } = await setup(t);
    const keys = cache();
    keys.loadSnapshot(uri, snapshotAged(uri, time.now, 30 * 24 * HOUR, [a]), { pinned: true });
    time.advance(48 * HOUR);
    assert.equal(keys.inspect(uri).state, 'pinned');
    assert.equal((await keys.getKey(uri, a.kid)).kid, a.kid);
    await assert.rejects(keys.getKey(uri, b.kid), { code: 'ERR_KEY_NOT_FOUND', message: /pinned/ });
    await assert.rejects(keys.refresh(uri), { code: 'ERR_CONFIG_INVALID' });
    await keys.load(uri);
    assert.equal(server.requestCount, 0);
  });

  test('an offline cache never fetches: snapshots are pinned, pools without one are not loaded', async (t) => {
    const { server, uri, time, cache } = await setup(t);
    const keys = cache({ offline: true });
    const other = server.jwksUri('local_OtherPool');
    keys.loadSnapshot(uri, snapshotAged(uri, time.now, 0, [a]));
    time.advance(48 * HOUR);
    assert.equal(keys.inspect(uri).state, 'pinned');
    assert.equal((await keys.getKey(uri, a.kid)).kid, a.kid);
    await assert.rejects(keys.getKey(other, a.kid), {
      code: 'ERR_KEYS_NOT_LOADED',
      status: 503,
      message: /offline/,
    });
    await assert.rejects(keys.load(other), { code: 'ERR_KEYS_NOT_LOADED' });
    await assert.rejects(keys.refresh(other), { code: 'ERR_CONFIG_INVALID' });
    assert.equal(server.requestCount, 0);
  });

  test('loading is validated; a refused snapshot leaves the keys in place', async (t) => {
    const { uri, dir, time, cache } = await setup(t);
    const keys = cache();
    keys.loadSnapshot(uri, buildJwks(a));
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const cases: [string, JwksSnapshot | string, RegExp][] = [
      ['a missing file', join(dir, 'missing.json'), /could not read the JWKS snapshot .*missing\.json/],
      ['a file that is not JSON', write('bad.json', '{"keys": ['), /could not read the JWKS snapshot/],
      ['JSON without keys', write('empty.json', '{}'), /"keys" array/],
      ['only private keys', { keys: [{ ...b.publicJwk, d: 'AQAB' }] } as JwksSnapshot, /private member "d"/],
      ['only small keys', { keys: [generateKeyPair({ modulusLength: 1024 }).publicJwk] }, /1024 bits/],
      [
        'a snapshot of another pool',
        { ...snapshotAged(uri, time.now, 0), jwksUri: uri.replace(POOL, 'local_X') },
        /saved for/,
      ],
      [
        'a fetchedAt that is not a date',
        { ...buildJwks(b), fetchedAt: 'yesterday' },
        /fetchedAt must be an ISO date/,
      ],
    ];
    for (const [label, snapshot, message] of cases) {
      assert.throws(() => keys.loadSnapshot(uri, snapshot), { code: 'ERR_JWKS_INVALID', message }, label);
      assert.deepEqual(keys.inspect(uri).kids, [a.kid], label);
    }
  });

  test('a snapshot with one private key keeps its public keys and reports the other', async (t) => {
    const { uri, cache } = await setup(t);
    const recorder = recordEvents();
    t.after(() => recorder.stop());
    const keys = cache();
    keys.loadSnapshot(uri, { keys: [{ ...b.publicJwk, d: 'AQAB' }, a.publicJwk] });
    assert.deepEqual(keys.inspect(uri).kids, [a.kid]);
    assert.match(recorder.of('keyRejected')[0]?.error.message ?? '', /private member "d"/);
  });

  test('saving with no keys, or to a folder that does not exist, throws and leaves no file', async (t) => {
    const { uri, dir, cache } = await setup(t);
    const keys = cache();
    await assert.rejects(keys.saveSnapshot(uri, join(dir, 'x.json')), { code: 'ERR_KEYS_NOT_LOADED' });
    keys.loadSnapshot(uri, buildJwks(a));
    await assert.rejects(keys.saveSnapshot(uri, join(dir, 'no', 'such', 'x.json')), {
      code: 'ERR_CONFIG_INVALID',
      message: /could not write the JWKS snapshot/,
    });
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('snapshots through CognitoVerifier', () => {
  test('verifier.saveSnapshot, then a cold start from the file: verifySync with no request', async (t) => {
    const { server, dir, time } = await setup(t);
    const config = {
      userPoolId: POOL,
      issuer: server.issuer(POOL),
      clientId: 'c',
      tokenUse: 'access',
    } as const;
    const warm = new CognitoVerifier(config, { clock: time.clock });
    await warm.hydrate();
    const file = join(dir, 'jwks.json');
    await warm.saveSnapshot(file);
    assert.equal(server.requestCount, 1);

    const cold = new CognitoVerifier({ ...config, jwks: file }, { clock: time.clock });
    const token = mintAccessToken({ key: b, issuer: config.issuer, clientId: 'c', now: time.now });
    assert.equal(cold.verifySync(token).client_id, 'c');
    assert.equal(server.requestCount, 1);
    assert.equal(cold.jwksCache.inspect(server.jwksUri(POOL)).state, 'fresh');

    time.advance(11 * 60_000); // the snapshot is now older than the max age: refreshed like fetched keys
    assert.equal((await cold.verify(token)).client_id, 'c');
    await settle(cold.jwksCache, server.jwksUri(POOL));
    assert.equal(server.requestCount, 2);
  });

  test('offline verifier: a pinned snapshot, however old, and never a request', async (t) => {
    const { server, dir, time } = await setup(t);
    const issuer = server.issuer(POOL);
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(snapshotAged(server.jwksUri(POOL), time.now, 90 * 24 * HOUR, [a])));
    const verifier = new CognitoVerifier(
      { userPoolId: POOL, issuer, clientId: 'c', tokenUse: 'access', jwks: file },
      { clock: time.clock, offline: true },
    );
    const token = (key: TestKeyPair) => mintAccessToken({ key, issuer, clientId: 'c', now: time.now });
    assert.equal((await verifier.verify(token(a))).client_id, 'c');
    await assert.rejects(verifier.verify(token(b)), { code: 'ERR_KEY_NOT_FOUND' });
    await verifier.hydrate();
    assert.equal(server.requestCount, 0);
  });

  test('offline belongs to a shared jwksCache, not to a verifier that uses one', () => {
    assert.throws(
      () =>
        new CognitoVerifier(
          { userPoolId: POOL, issuer: 'http://127.0.0.1:1/p', clientId: 'c', tokenUse: 'id' },
          { jwksCache: new JwksCache(), offline: true },
        ),
      { code: 'ERR_CONFIG_INVALID', message: /offline belongs to the shared jwksCache/ },
    );
  });

  test('several pools: saveSnapshot needs the issuer; an unknown issuer is refused', async (t) => {
    const { server, dir } = await setup(t);
    const verifier = new CognitoVerifier([
      { userPoolId: 'local_One', issuer: server.issuer('local_One'), clientId: 'c', tokenUse: 'id' },
      { userPoolId: 'local_Two', issuer: server.issuer('local_Two'), clientId: 'c', tokenUse: 'id' },
    ]);
    await verifier.hydrate();
    const file = join(dir, 'two.json');
    await assert.rejects(verifier.saveSnapshot(file), {
      code: 'ERR_CONFIG_INVALID',
      message: /several pools/,
    });
    await assert.rejects(verifier.saveSnapshot(file, 'https://elsewhere.example/x'), {
      code: 'ERR_CONFIG_INVALID',
      message: /is not an issuer of this verifier/,
    });
    await verifier.saveSnapshot(file, server.issuer('local_Two'));
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).jwksUri, server.jwksUri('local_Two'));
  });

  test("a multi-Region pool's snapshot loads for both of its issuers", async (t) => {
    const { dir } = await setup(t);
    const userPoolId = 'us-east-1_SnapShot1';
    const source = new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', jwks: buildJwks(a) });
    const file = join(dir, 'pool.json');
    await source.saveSnapshot(file);
    const verifier = new CognitoVerifier({ userPoolId, clientId: 'c', tokenUse: 'id', jwks: file });
    for (const { issuer } of verifier.issuers) {
      assert.equal(verifier.verifySync(mintIdToken({ key: a, issuer, clientId: 'c' })).iss, issuer);
    }
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildPlainJs, moduleUrl } from '../../bench/build.ts';

const run = promisify(execFile);

test('importing the package root loads no HTTP client, TLS or fs/promises; verifySync works from a snapshot; an http JWKS loads no node:https', async () => {
  const src = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
  const script = `
    const loaded = (name) => process.moduleLoadList.includes('NativeModule ' + name);
    const before = ['http', 'https', 'tls', '_http_client', 'fs/promises'].filter(loaded);
    const { CognitoVerifier } = await import(${src('index.ts')});
    const afterImport = ['http', 'https', 'tls', '_http_client', 'fs/promises'].filter(loaded);
    const { generateKeyPair, mintAccessToken, startJwksServer, buildJwks } = await import(${src('testing/index.ts')});
    const afterKit = ['https', 'tls'].filter(loaded);
    const key = generateKeyPair();
    const offline = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access', jwks: buildJwks(key) });
    const sync = offline.verifySync(mintAccessToken({ key, userPoolId: 'eu-west-1_AbC123', clientId: 'c' })).client_id;
    const afterSync = ['https', 'tls'].filter(loaded);
    const server = await startJwksServer({ keys: [key] });
    const issuer = server.issuer('local_lazy');
    const online = new CognitoVerifier({ userPoolId: 'local_lazy', issuer, clientId: 'c', tokenUse: 'access' });
    await online.hydrate();
    const hydrated = online.verifySync(mintAccessToken({ key, issuer, clientId: 'c' })).client_id;
    await server.close();
    console.log(JSON.stringify({ before, afterImport, afterKit, sync, afterSync, hydrated, afterFetch: loaded('https') }));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    timeout: 60_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  // The test kit itself starts an http server, so only what the root adds is compared.
  assert.deepEqual(
    result.afterImport.filter((name: string) => !result.before.includes(name)),
    [],
  );
  assert.equal(result.sync, 'c');
  // The test kit imports node:http for its server, and on Node 22+ an ESM import of node:http
  // loads tls as well: verifySync is compared with what was loaded before it, not with the root's.
  assert.ok(!result.afterKit.includes('https'), 'the test kit does not load node:https');
  assert.deepEqual(result.afterSync, result.afterKit, 'verifySync loads no HTTP client or TLS');
  assert.equal(result.hydrated, 'c', 'verifySync works once hydrate() loaded the keys');
  // The first fetch loaded the transport; a JWKS over http needs no node:https (some 9 ms of a cold start).
  assert.equal(result.afterFetch, false, 'an http JWKS loads no node:https');
});

// The plain-JS build, as the published package runs: under tsx, the loader itself loads node:crypto.
// The keys are imported (and signatures checked) with it, so verifySync still works once they load.
test('importing the package root, or creating a verifier, does not load node:crypto', async (t) => {
  const build = buildPlainJs();
  t.after(() => build.remove());
  const script = `
    const loaded = () => process.moduleLoadList.includes('NativeModule crypto');
    const before = loaded();
    const { CognitoVerifier } = await import(${JSON.stringify(moduleUrl(build, 'index.js'))});
    const afterImport = loaded();
    const verifier = new CognitoVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'c', tokenUse: 'access' });
    const afterVerifier = loaded();
    const { generateKeyPair, mintAccessToken, buildJwks } = await import(${JSON.stringify(moduleUrl(build, 'testing/index.js'))});
    const key = generateKeyPair();
    verifier.jwksCache.loadSnapshot(verifier.issuers[0].jwksUri, buildJwks(key));
    const claims = verifier.verifySync(mintAccessToken({ key, userPoolId: 'eu-west-1_AbC123', clientId: 'c' }));
    console.log(JSON.stringify({ before, afterImport, afterVerifier, clientId: claims.client_id }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(result, { before: false, afterImport: false, afterVerifier: false, clientId: 'c' });
});

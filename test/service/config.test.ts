// The service's config file as loadServiceConfig reads it: what is refused before anything listens.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadServiceConfig } from '../../src/service/config.ts';
import { rejectsCode } from '../helpers/assert-error.ts';

const POOLS = '[{ "userPoolId": "eu-west-1_AbC123", "clientId": ["app"], "tokenUse": "access" }]';

async function file(t: TestContext, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'service.json');
  await writeFile(path, text);
  return path;
}

test("a config file that names a key twice is refused with the key's JSON path (the last one no longer wins silently)", async (t) => {
  const cases: [string, string][] = [
    [
      `{ "pools": ${POOLS}, "routes": [{ "path": "/admin/**", "require": { "groups": ["admins"] } }], "routes": [{ "path": "/**", "require": "anonymous" }] }`,
      'routes',
    ],
    [`{ "pools": ${POOLS}, "listen": { "port": 1, "port": 2 } }`, 'listen.port'],
    [
      `{ "pools": ${POOLS}, "routes": [{ "path": "/a", "require": "anonymous" }, { "path": "/b", "path": "/**", "require": "anonymous" }] }`,
      'routes[1].path',
    ],
    [`{ "pools": ${POOLS}, "\\u0072oles": {}, "roles": {} }`, 'roles'],
  ];
  for (const [text, path] of cases) {
    await rejectsCode(loadServiceConfig(await file(t, text), {}), 'ERR_CONFIG_INVALID', {
      message: `names the key ${path} twice`,
    });
  }
});

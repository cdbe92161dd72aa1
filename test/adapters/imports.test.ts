import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url);

// A resolve hook that fails any import of a framework: the adapters may only use their types
// (the Next.js helper takes Web Requests and gives Web Responses, so it needs nothing of next).
const FORBID_FRAMEWORKS = `data:text/javascript,${encodeURIComponent(`
const forbidden = /^(express|fastify|hono|aws-lambda|next)(\\/|$)/;
export async function resolve(specifier, context, next) {
  if (forbidden.test(specifier)) throw new Error('imported ' + specifier + ' at run time');
  return next(specifier, context);
}`)}`;

for (const adapter of ['express', 'fastify', 'hono', 'lambda', 'nextjs']) {
  test(`importing cognito-jwt/${adapter} loads no framework at run time`, async () => {
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(FORBID_FRAMEWORKS)});
      const module = await import('./src/adapters/${adapter}.ts');
      console.log(Object.keys(module).sort().join(','));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    assert.ok(stdout.trim().length > 0, 'the adapter exports something');
  });
}

test('importing cognito-jwt/session loads no framework and no Redis client at run time', async () => {
  const script = `
    import { register } from 'node:module';
    register(${JSON.stringify(FORBID_FRAMEWORKS.replace('aws-lambda', 'aws-lambda|redis'))});
    const module = await import('./src/session/index.ts');
    console.log(Object.keys(module).sort().join(','));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
  });
  assert.match(stdout, /CognitoSession/);
});

test('the resolve hook does catch a framework import (the test above can fail)', async () => {
  const script = `
    import { register } from 'node:module';
    register(${JSON.stringify(FORBID_FRAMEWORKS)});
    await import('express');`;
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT }),
    /imported express at run time/,
  );
});

/**
 * The guides' quick starts that are shell scripts (docs/service.md, docs/cli.md), run as printed
 * with bash in an empty folder, with only what a page cannot know swapped in: the package comes
 * from this checkout's build instead of the registry (it is not published yet), and the service's
 * fixed ports become free ones. What the service quick start prints must be its ```text fence.
 * Needs `npm run build` first (npm test builds before testing) and Debian's nginx.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { extractFences, type Fence, fenceAfter, ROOT } from '../helpers/doc-blocks.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { substitute } from '../helpers/service-doc.ts';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');
let work: string;
/** A folder whose node_modules holds the package as `npm install cognito-jwt` would, from this build. */
let installed: string;

before(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  work = mkdtempSync(join(tmpdir(), 'cognito-jwt-shell-quick-start-'));
  installed = join(work, 'installed');
  mkdirSync(join(installed, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(installed, 'node_modules', 'cognito-jwt'));
  const bin = join(installed, 'node_modules', '.bin', 'cognito-jwt');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
});

after(() => rmSync(work, { recursive: true, force: true }));

function quickStart(file: string): Fence {
  const fences = extractFences(readFileSync(join(ROOT, file), 'utf8'), file).filter(
    (fence) => fence.heading === 'Quick start' && fence.lang === 'sh',
  );
  assert.equal(fences.length, 1, `${file}: one sh block under "Quick start"`);
  return fences[0] as Fence;
}

/** Run a script with bash in its own process group (killed whole afterwards); stdout and the exit code. */
function runScript(
  script: string,
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const path = join(cwd, 'quick-start.sh');
  writeFileSync(path, script);
  return new Promise((resolve) => {
    const child = spawn('bash', [path], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${join(process.execPath, '..')}:/usr/sbin:/usr/bin:/bin` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => {
      stdout += data;
    });
    child.stderr.on('data', (data) => {
      stderr += data;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        process.kill(-(child.pid as number), 'SIGKILL'); // anything it left running
      } catch {}
      resolve({ code, stdout, stderr });
    });
  });
}

test('docs/service.md quick start: keys, a token, the service, an upstream and nginx, as printed', async () => {
  const block = quickStart('docs/service.md');
  const ports = { '9180': await freePort(), '8088': await freePort(), '8080': await freePort() };
  let script = substitute(block.code, [
    ['npm init -y > /dev/null && npm install cognito-jwt', `ln -s "${installed}/node_modules" node_modules`],
  ]);
  for (const [port, free] of Object.entries(ports)) {
    assert.ok(script.includes(port), `the quick start uses port ${port}`);
    script = script.replaceAll(port, String(free));
  }
  const dir = join(work, 'service');
  mkdirSync(dir);
  // If the script stops half-way, its nginx (a daemon) is stopped by its pid file.
  const result = await runScript(script, dir, 90_000).finally(() => {
    const pid = join(dir, 'cognito-jwt-quick-start', 'nginx.pid');
    if (existsSync(pid)) {
      try {
        process.kill(Number(readFileSync(pid, 'utf8')), 'SIGKILL');
      } catch {}
    }
  });
  assert.equal(result.code, 0, `the quick start failed\n${result.stdout}\n${result.stderr}`);
  const shown = fenceAfter(block);
  assert.equal(shown?.lang, 'text');
  assert.equal(result.stdout.trim(), shown?.code.trim());
});

test('docs/cli.md quick start: a key, a token, inspect and verify, as printed', async () => {
  const block = quickStart('docs/cli.md');
  const dir = join(work, 'cli');
  mkdirSync(dir);
  symlinkSync(join(installed, 'node_modules'), join(dir, 'node_modules'));
  const result = await runScript(block.code, dir, 60_000);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  // What the page says the last command prints.
  assert.match(
    result.stdout,
    /access token {2}✔ VALID: signature, issuer, client, token_use, times,\s+groups checked/,
  );
  assert.match(result.stdout, /exit 0\s*$/);
  assert.ok(existsSync(join(dir, 'test-key.json')) && existsSync(join(dir, 'token.txt')));
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { CLI, ESCAPE, errorLine, runCli, runProcess } from './run-cli.ts';

const COMMANDS = ['inspect', 'verify', 'keys fetch', 'keys show', 'keys generate', 'mint', 'serve'];
const key = generateKeyPair();

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  for (const flag of ['--version', '-v']) {
    const result = await runCli([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${version}\n`);
  }
});

test('--help lists every command; every command has its own --help with examples', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^ {2}${name} +\\S`, 'm'));
  for (const name of COMMANDS) {
    for (const args of [
      [...name.split(' '), '--help'],
      ['help', ...name.split(' ')],
      [...name.split(' '), '-h'],
    ]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Usage: cognito-jwt ${name} `));
      assert.match(result.stdout, /\nExamples:\n/);
      assert.match(result.stdout, /\nExit codes: /);
    }
  }
  const keys = await runCli(['keys', '--help']);
  assert.equal(keys.code, 0);
  assert.match(keys.stdout, /^Usage: cognito-jwt keys <fetch\|show\|generate>/);
});

test('no command, an unknown command or an unknown keys command: help or one error line, exit 2', async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage: cognito-jwt <command>/);

  const unknown = await runCli(['decode']);
  assert.equal(unknown.code, 2);
  assert.deepEqual(errorLine(unknown.stderr), {
    code: 'ERR_CONFIG_INVALID',
    message:
      'unknown command "decode"; commands: inspect, verify, keys, mint, serve, revoke, doctor, config (see: cognito-jwt --help)',
  });

  const keys = await runCli(['keys', 'rotate']);
  assert.equal(keys.code, 2);
  assert.match(errorLine(keys.stderr).message, /^unknown keys command "rotate"/);

  const bare = await runCli(['keys']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /^Usage: cognito-jwt keys/);
});

test('config alone lists its commands (exit 2), like keys; config --help and help config list them too', async () => {
  const bare = await runCli(['config']);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^Usage: cognito-jwt config <http-api-authorizer> \[options\]\n/);
  assert.match(bare.stderr, /\n {2}config http-api-authorizer {2}\S/);
  assert.doesNotMatch(bare.stderr, /unknown/);
  for (const args of [
    ['config', '--help'],
    ['help', 'config'],
  ]) {
    const help = await runCli(args);
    assert.equal(help.code, 0, args.join(' '));
    assert.equal(help.stdout.trimEnd(), bare.stderr.trimEnd(), args.join(' '));
  }
  const unknown = await runCli(['config', 'http-api-authoriser']);
  assert.equal(unknown.code, 2);
  assert.equal(
    errorLine(unknown.stderr).message,
    'unknown config command "http-api-authoriser"; did you mean "http-api-authorizer"? use: http-api-authorizer (see: cognito-jwt config --help)',
  );
});

test('colours: off when piped, on with FORCE_COLOR (stdout and stderr), off with FORCE_COLOR=0', async () => {
  const expired = mintAccessToken({ key, expiresIn: -60 });
  const piped = await runCli(['inspect', expired]);
  assert.ok(!piped.stdout.includes(ESCAPE));

  const forced = await runCli(['inspect', expired], { env: { FORCE_COLOR: '1' } });
  assert.equal(forced.code, 0);
  assert.ok(forced.stdout.includes('\u001b[1m\u001b[33mNOT VERIFIED'), 'bold yellow verdict');
  assert.ok(forced.stdout.includes('\u001b[33m! expired'), 'yellow warning');

  const forcedError = await runCli(['inspect', 'x.y'], { env: { FORCE_COLOR: '1' } });
  assert.equal(forcedError.code, 1);
  assert.ok(forcedError.stderr.startsWith('\u001b[1m\u001b[31merror'), 'bold red "error" on stderr');

  const off = await runCli(['inspect', expired], { env: { FORCE_COLOR: '0' } });
  assert.ok(!off.stdout.includes(ESCAPE));
});

// A pseudo-terminal through util-linux `script`, so the CLI sees a real TTY.
const hasScript = (() => {
  if (process.platform !== 'linux') return false;
  try {
    return execFileSync('script', ['--version'], { encoding: 'utf8' }).includes('util-linux');
  } catch {
    return false;
  }
})();

test('colours: on in a terminal, off in a terminal with NO_COLOR', {
  skip: !hasScript && 'needs util-linux script',
}, async () => {
  const token = mintAccessToken({ key });
  const command = `'${process.execPath}' '${CLI}' inspect ${token}`;
  // Node decides a terminal's colours from TERM and CI (a bare CI=true means none): pin a colour terminal.
  const terminal = { TERM: 'xterm-256color', CI: undefined };
  const tty = await runProcess('script', ['-qec', command, '/dev/null'], { env: terminal });
  assert.equal(tty.code, 0, tty.stderr);
  assert.ok(tty.stdout.includes(`${ESCAPE}1m`), 'bold in a terminal');

  const noColor = await runProcess('script', ['-qec', command, '/dev/null'], {
    env: { ...terminal, NO_COLOR: '1' },
  });
  assert.equal(noColor.code, 0, noColor.stderr);
  assert.match(noColor.stdout, /access token {2}NOT VERIFIED/);
  assert.ok(!noColor.stdout.includes(ESCAPE));
});

test('a terminal on stdin and no token is a usage error, not a hang', {
  skip: !hasScript && 'needs util-linux script',
}, async () => {
  const result = await runProcess('script', ['-qec', `'${process.execPath}' '${CLI}' inspect`, '/dev/null'], {
    env: { NO_COLOR: '1' },
  });
  assert.equal(result.code, 2);
  assert.match(
    result.stdout,
    /^error ERR_CONFIG_INVALID: no token given: pass it as an argument, or pipe it on stdin/,
  );
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fstatSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { checkServiceConfig, type ServiceConfig } from '../../src/service/config.ts';
import type { Decision } from '../../src/service/decide.ts';
import { createLogger, flushLog } from '../../src/service/log.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The logger's writes to stdout, kept instead of written, until the test ends or `restore()`. */
function captureLogWrites(t: TestContext): { writes: string[]; restore: () => void } {
  const writes: string[] = [];
  const original = process.stdout.write;
  // Only the logger's lines: the test runner reports through stdout too.
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{"time"')) {
      writes.push(chunk);
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  const restore = () => {
    process.stdout.write = original;
  };
  t.after(restore);
  return { writes, restore };
}

test('stdout lines are held and go out together, in order, within the flush delay', async (t) => {
  const { writes, restore } = captureLogWrites(t);
  const logger = createLogger({ level: 'info', decisions: 'info' });
  logger.log('info', 'one');
  logger.log('info', 'two');
  logger.log('debug', 'below the level');
  await new Promise((resolve) => setImmediate(resolve));
  logger.log('warn', 'three');
  assert.equal(writes.length, 0, 'nothing is written at once, nor at the end of the turn');
  await new Promise((resolve) => setTimeout(resolve, 200));
  restore();
  assert.equal(writes.length, 1);
  const lines = (writes[0] as string)
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => line.msg),
    ['one', 'two', 'three'],
  );
  for (const line of lines) assert.ok(!Number.isNaN(Date.parse(line.time)), line.time);
});

test('a batch never passes 4 KiB to a pipe (atomic, when workers share it) and holds whole lines; flushLog writes what is held', async (t) => {
  const { writes } = captureLogWrites(t);
  const logger = createLogger({ level: 'info', decisions: 'info' });
  // The test runner gives each file a pipe for stdout; run alone with stdout to a file, the limit is 64 KiB.
  const limit = fstatSync(1).isFile() ? 64 * 1024 : 4096;
  const long = 'x'.repeat(1000);
  for (let i = 0; i < 140; i++) logger.log('info', long);
  assert.ok(
    writes.length >= 2,
    `140 lines of about 1 KB go out in batches, without waiting (${writes.length})`,
  );
  for (const write of writes) {
    assert.ok(write.length <= limit, `a write of ${write.length} characters`);
    assert.ok(write.endsWith('\n'));
    for (const line of write.trimEnd().split('\n')) assert.equal(JSON.parse(line).msg, long);
  }
  const written = writes.length;
  logger.log('info', 'held');
  flushLog();
  assert.equal(writes.length, written + 1);
  assert.match(writes.at(-1) as string, /"msg":"held"/);
  flushLog();
  assert.equal(writes.length, written + 1, 'nothing held, nothing written');
});

test('lines held when the process exits are written before it ends', () => {
  const script = `
    import { createLogger } from './src/service/log.ts';
    const logger = createLogger({ level: 'info', decisions: 'info' });
    logger.log('info', 'before exit');
    process.exit(3);`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stdout, /"msg":"before exit"/);
});

test('allowed requests are logged at log.allowed, refusals at log.decisions, 5xx answers at warn; the config defaults allowed to debug', () => {
  const lines: string[] = [];
  const decision = (outcome: 'allow' | 'deny' | 'unavailable', status: number) =>
    ({
      contract: 'nginx',
      method: 'GET',
      path: '/x',
      route: 0,
      status,
      outcome,
      code: 'OK',
    }) as unknown as Decision;
  const logger = createLogger({
    level: 'info',
    decisions: 'info',
    allowed: 'debug',
    write: (line) => lines.push(line),
  });
  logger.decision(decision('allow', 200), 0.1, true);
  logger.decision(decision('deny', 401), 0.1, undefined);
  logger.decision(decision('unavailable', 503), 0.1, undefined);
  assert.deepEqual(
    lines.map((line) => [JSON.parse(line).outcome, JSON.parse(line).level]),
    [
      ['deny', 'info'],
      ['unavailable', 'warn'],
    ],
  );

  const base = {
    pools: [{ userPoolId: 'eu-west-1_AbC123', clientId: ['app'], tokenUse: 'access' as const }],
  };
  const levels = (log?: ServiceConfig['log']) => {
    const settings = checkServiceConfig(log === undefined ? base : { ...base, log }, {
      baseDir: ROOT,
      env: {},
    });
    return [settings.decisionLevel, settings.allowedLevel];
  };
  assert.deepEqual(
    levels(),
    ['info', 'debug'],
    'by default, a line per refusal and none per allowed request',
  );
  assert.deepEqual(
    levels({ decisions: 'info' }),
    ['info', 'info'],
    'a config that set decisions keeps every line',
  );
  assert.deepEqual(levels({ allowed: 'info' }), ['info', 'info']);
  assert.deepEqual(levels({ decisions: 'warn', allowed: 'silent' }), ['warn', 'silent']);
  assert.throws(() => levels({ allowed: 'loud' as never }), {
    code: 'ERR_CONFIG_INVALID',
    message: /log\.allowed/,
  });
});

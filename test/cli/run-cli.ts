// Runs the BUILT executable (dist/cli/main.js) as a real process, as users run it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

if (!existsSync(CLI)) {
  throw new Error(
    `${CLI} is missing: the CLI tests run the built executable. Build it first with ` +
      '`npx tsc -p tsconfig.build.json` (npm test builds before testing).',
  );
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the process's stdin, then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Added to a clean environment (no colour variables); `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const COLOUR_VARIABLES = [
  'FORCE_COLOR',
  'NO_COLOR',
  'NODE_DISABLE_COLORS',
  'NODE_TEST_CONTEXT',
  'NODE_OPTIONS',
];

function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of COLOUR_VARIABLES) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

const DEADLINE_MS = 30_000;

/** Run `node dist/cli/main.js ...args` and collect its exit code and output. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], options);
}

/** Run any executable with the same clean environment (used to give the CLI a pseudo-terminal). */
export function runProcess(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: cleanEnv(options.env),
      cwd: options.cwd,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

/** A temporary folder, removed by the returned function. */
export async function tempDir(): Promise<{
  path: string;
  file: (name: string) => string;
  remove: () => Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), 'cognito-jwt-cli-'));
  return { path, file: (name) => join(path, name), remove: () => rm(path, { recursive: true, force: true }) };
}

/** Write a JSON file. */
export function writeJson(path: string, value: unknown): Promise<void> {
  return writeFile(path, JSON.stringify(value));
}

/** The `error CODE: message` line a failure prints, parsed. */
export function errorLine(stderr: string): { code: string; message: string } {
  const match = /^error (\S+): (.*)$/m.exec(stderr);
  if (!match) throw new Error(`no error line in stderr: ${stderr}`);
  return { code: match[1]!, message: match[2]! };
}

/** ANSI escape sequences (colours) present in a text. */
export const ESCAPE = '\u001b[';

/**
 * The package as a user gets it: `npm pack`, then the tarball installed (offline) into a scratch
 * consumer folder. The folder sits under the project (test/.tmp-pack-*) so that the optional peers
 * (express, fastify, fastify-plugin, hono) and @types/node resolve from the project's node_modules.
 * Shared by test/package/tarball.test.ts (what it holds, and that it loads) and
 * test/package/types.test.ts (its types and its manifest, checked by the compilers and linters).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PACKAGE_NAME = 'cognito-jwt';

export interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types?: string; default?: string }>;
  bin?: Record<string, string>;
}

export interface PackResult {
  filename: string;
  files: { path: string }[];
}

export interface PackedPackage {
  manifest: PackageJson;
  /** The keys of the exports map. */
  subpaths: string[];
  packed: PackResult;
  /** The tarball's path. */
  tarball: string;
  /** Where it is installed: node_modules/cognito-jwt. */
  consumerDir: string;
  remove(): Promise<void>;
}

/** A command's output; rejects, with both streams, when it exits non-zero. */
export function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(
      command,
      args,
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        if (error)
          fail(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else done({ stdout, stderr });
      },
    );
  });
}

/** Like `run`, but resolves with the exit code instead of rejecting on a non-zero one. */
export function runStatus(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The specifier a consumer imports a subpath with: `.` → `cognito-jwt`, `./testing` → `cognito-jwt/testing`. */
export const specifier = (subpath: string) =>
  subpath === '.' ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.slice(2)}`;

/** Packs the project (building dist/ first when it is missing) and installs the tarball. */
export async function installPackedPackage(): Promise<PackedPackage> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  if (!existsSync(join(ROOT, 'dist'))) await run('npm', ['run', 'build'], ROOT);

  const packDir = await mkdtemp(join(tmpdir(), 'cognito-jwt-pack-'));
  const consumerDir = join(ROOT, 'test', `.tmp-pack-${process.pid}-${Date.now().toString(36)}`);
  const remove = () =>
    Promise.all([consumerDir, packDir].map((dir) => rm(dir, { recursive: true, force: true }))).then(
      () => {},
    );
  try {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT);
    const [packed] = JSON.parse(stdout) as [PackResult];
    const tarball = join(packDir, packed.filename);
    await mkdir(consumerDir);
    await writeFile(join(consumerDir, 'package.json'), '{ "name": "pack-consumer", "private": true }\n');
    await run(
      'npm',
      [
        'install',
        '--offline',
        '--no-save',
        '--no-package-lock',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tarball,
      ],
      consumerDir,
    );
    return { manifest, subpaths: Object.keys(manifest.exports), packed, tarball, consumerDir, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

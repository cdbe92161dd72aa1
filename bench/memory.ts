import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Build, moduleUrl } from './build.ts';
import { CLIENT_ID, type Fixture, USER_POOL_ID } from './fixtures.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));

export interface Memory {
  readonly cache: boolean;
  readonly tokens: number;
  /** Tokens the verified-token cache held at the end (its bound, once more tokens than that went by). */
  readonly cachedTokens: number;
  /** `heapUsed` after a full collection, minus the same before the first token. */
  readonly heapGrowthMB: number;
  readonly peakHeapUsedMB: number;
  readonly rssBeforeMB: number;
  /** Highest RSS seen (sampled every 1 000 tokens), the whole process. */
  readonly peakRssMB: number;
}

/** Write the tokens to a file for the child processes (one per line) and return its path. */
export function writeTokenFile(build: Build, tokens: readonly string[]): string {
  const file = join(build.dir, 'memory-tokens.txt');
  writeFileSync(file, tokens.join('\n'));
  return file;
}

/** Feed every token of the file to a default verifier (and to one without cache) in fresh processes. */
export async function measureMemory(build: Build, fixture: Fixture, file: string): Promise<Memory[]> {
  const results: Memory[] = [];
  for (const cache of [true, false]) {
    const params = {
      indexUrl: moduleUrl(build, 'index.js'),
      jwksUri: fixture.jwksUri,
      file,
      userPoolId: USER_POOL_ID,
      clientId: CLIENT_ID,
      cache,
    };
    const { stdout } = await run(process.execPath, ['--expose-gc', CHILD, JSON.stringify(params)], {
      timeout: 120_000,
    });
    results.push(JSON.parse(stdout) as Memory);
  }
  return results;
}

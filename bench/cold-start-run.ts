// `npm run bench:cold-start`: only the cold-start rows of `npm run bench` (fresh processes,
// interleaved, the same loopback JWKS for every package), for iterating on start-up cost.
// `--runs N` (default 11, at least 7).
import { parseArgs } from 'node:util';
import { buildPlainJs } from './build.ts';
import { measureColdStarts } from './cold-start.ts';
import { createFixture } from './fixtures.ts';
import { formatColdStarts } from './report.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
const runs = Math.max(7, Number(values.runs));
const build = buildPlainJs();
const fixture = await createFixture();
try {
  console.log(formatColdStarts(await measureColdStarts(build, fixture, runs)));
} finally {
  await fixture.close();
}

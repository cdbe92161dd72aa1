// Heap and RSS of a verifier fed distinct tokens, in a fresh process started with --expose-gc.
// Tokens are read from a file line by line, so each arrives as a new string (as from an HTTP
// header) and the token list itself never sits on the heap. Prints the result as JSON.
// argv[2]: { indexUrl, jwksUri, file, userPoolId, clientId, cache }
import { closeSync, openSync, readSync } from 'node:fs';

const { indexUrl, jwksUri, file, userPoolId, clientId, cache } = JSON.parse(process.argv[2]);
const { CognitoVerifier } = await import(indexUrl);
const verifier = new CognitoVerifier(
  { userPoolId, clientId, tokenUse: 'access', jwksUri },
  cache ? {} : { verifiedTokenCache: false },
);
await verifier.hydrate();

const MB = 1024 * 1024;
globalThis.gc();
const before = process.memoryUsage();
let peakRss = before.rss;
let peakHeapUsed = before.heapUsed;
let verified = 0;
const chunk = Buffer.alloc(1024 * 1024);
let rest = '';
const fd = openSync(file, 'r');
for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
  const lines = (rest + chunk.toString('latin1', 0, read)).split('\n');
  rest = lines.pop();
  for (const token of lines) {
    verifier.verifySync(token);
    if (++verified % 1000 === 0) {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
    }
  }
}
closeSync(fd);
if (rest) {
  verifier.verifySync(rest);
  verified++;
}
globalThis.gc();
const after = process.memoryUsage();
process.stdout.write(
  JSON.stringify({
    cache: Boolean(cache),
    tokens: verified,
    cachedTokens: verifier.tokenCache?.size ?? 0,
    heapUsedBeforeMB: before.heapUsed / MB,
    heapUsedAfterMB: after.heapUsed / MB,
    heapGrowthMB: (after.heapUsed - before.heapUsed) / MB,
    peakHeapUsedMB: Math.max(peakHeapUsed, after.heapUsed) / MB,
    rssBeforeMB: before.rss / MB,
    peakRssMB: Math.max(peakRss, after.rss) / MB,
  }),
  () => process.exit(0),
);

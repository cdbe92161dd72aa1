/**
 * Lambda@Edge cold start: the first request of a fresh viewer-request handler, with the keys from
 * a bundled snapshot versus fetched from a JWKS endpoint that answers after ~150 ms (so loopback
 * does not hide the cost of a real fetch). Each round builds a new handler, as a new container
 * would; module loading is outside the measure (it is the same for both).
 *
 *   npx tsx bench/edge-cold-start.ts [rounds]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createViewerRequestHandler } from '../src/adapters/lambda.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../src/testing/index.ts';
import { viewerRequestEvent } from '../test/adapters/lambda-events.ts';

const rounds = Number(process.argv[2] ?? 20);
const DELAY_MS = 150;
const key = generateKeyPair();
const jwks = buildJwks(key);
let requests = 0;
const server = createServer((_request, response) => {
  requests++;
  setTimeout(() => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  }, DELAY_MS);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const issuer = `${origin}/local_edge`;
const config = { userPoolId: 'local_edge', issuer, clientId: 'edge-client', tokenUse: 'access' as const };
const event = viewerRequestEvent({
  Authorization: `Bearer ${mintAccessToken({ key, issuer, clientId: 'edge-client' })}`,
});

async function firstRequest(withSnapshot: boolean): Promise<number> {
  const handler = createViewerRequestHandler({ verifier: withSnapshot ? { ...config, jwks } : config });
  const started = performance.now();
  const result = await handler(event);
  const elapsed = performance.now() - started;
  if (result && 'status' in result) throw new Error(`refused: ${JSON.stringify(result)}`);
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<string, number[]> = { snapshot: [], fetching: [] };
await firstRequest(true); // warm the JIT for both paths alike
await firstRequest(false);
requests = 0;
for (let round = 0; round < rounds; round++) {
  results.snapshot!.push(await firstRequest(true));
}
const snapshotRequests = requests;
for (let round = 0; round < rounds; round++) {
  results.fetching!.push(await firstRequest(false));
}
server.close();
console.log(`first request of a fresh handler, median of ${rounds} (JWKS answer delayed ${DELAY_MS} ms):`);
console.log(`  snapshot: ${median(results.snapshot!).toFixed(2)} ms, ${snapshotRequests} JWKS requests`);
console.log(
  `  fetching: ${median(results.fetching!).toFixed(2)} ms, ${requests - snapshotRequests} JWKS requests`,
);

/**
 * The upstream behind the proxies in the service tests: answers 200 with the method, the URL and
 * the headers it received as JSON, and records every request, so a test can prove both what the
 * upstream saw and that a refused request never reached it.
 *
 * ```ts
 * const upstream = await startEchoUpstream();
 * t.after(() => upstream.close());
 * // ... request through the proxy, then:
 * assert.equal(upstream.requests.length, 0);
 * ```
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the upstream received. */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface EchoUpstream {
  readonly port: number;
  readonly origin: string;
  readonly requests: readonly EchoedRequest[];
  /** Forget the requests seen so far. */
  reset(): void;
  close(): Promise<void>;
}

/** Start the echo upstream on a free loopback port. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const requests: EchoedRequest[] = [];
  const server = createServer((request, response) => {
    const seen = { method: request.method ?? '', url: request.url ?? '', headers: request.headers };
    requests.push(seen);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo' });
      response.end(JSON.stringify(seen));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    reset: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

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
  /**
   * The headers as a CGI-family server reads them (CGI, FastCGI/PHP, WSGI, Rack): each name upper
   * case with `-` turned into `_` behind `HTTP_`, so `X-Auth-Request-User` and
   * `X_Auth_Request_User` are one variable; every value sent under it, in order.
   */
  readonly cgi: Readonly<Record<string, readonly string[]>>;
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
    const cgi: Record<string, string[]> = {};
    for (let index = 0; index < request.rawHeaders.length; index += 2) {
      const name = `HTTP_${request.rawHeaders[index]!.toUpperCase().replaceAll('-', '_')}`;
      cgi[name] = [...(cgi[name] ?? []), request.rawHeaders[index + 1]!];
    }
    const seen = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, cgi };
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

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type OidcProviderOptions,
  startOidcProvider,
  type TestOidcProvider,
} from '../helpers/oidc-provider.ts';

/** A `fetch` that counts the requests it sends, by URL path. */
export interface CountingFetch {
  readonly fetch: typeof fetch;
  count(path?: string): number;
}

export function countingFetch(): CountingFetch {
  const counts = new Map<string, number>();
  return {
    fetch: (input, init) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      for (const key of [path, '*']) counts.set(key, (counts.get(key) ?? 0) + 1);
      return globalThis.fetch(input, init);
    },
    count: (path = '*') => counts.get(path) ?? 0,
  };
}

/** Run `body` against a fresh oidc-provider, closed afterwards whatever happens. */
export async function withProvider(
  options: OidcProviderOptions,
  body: (op: TestOidcProvider) => Promise<void>,
): Promise<void> {
  const op = await startOidcProvider(options);
  try {
    await body(op);
  } finally {
    await op.close();
  }
}

export interface ScriptedServer {
  readonly origin: string;
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * An HTTP server on loopback answering every request with `handler`; a handler that never
 * answers makes a server that accepts connections and then stays silent.
 */
export async function startScriptedServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<ScriptedServer> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    requests++;
    handler(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A loopback port that nothing listens on (it was bound, then released). */
export async function closedPortOrigin(): Promise<string> {
  const server = await startScriptedServer(() => {});
  await server.close();
  return server.origin;
}

/** A clock for tests: starts at the real time, moves only when told. */
export function manualClock(start = Date.now()): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
} {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    set(ms) {
      now = ms;
    },
  };
}

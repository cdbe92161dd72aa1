import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JWKS_EVENTS, type JwksEventMessages, type JwksEventName } from '../../src/keys/events.ts';
import type { Jwks } from '../../src/keys/jwk.ts';
import type { JwksCache } from '../../src/keys/jwks-cache.ts';
import { buildJwks, type TestKeyPair } from '../../src/testing/index.ts';

/** What the server does with the next JWKS request. */
export type Behaviour =
  /**
   * 200 with the key set current when the answer is sent (see `setKeys`), or with `keys` fixed when
   * scripting; optionally after a pause and with extra headers.
   */
  | { kind: 'jwks'; delayMs?: number; headers?: Record<string, string>; keys?: TestKeyPair[] | Jwks }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Any status with any body. */
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  /** 200 with this body and content type (`null`: no content-type header at all). */
  | { kind: 'body'; body: string | Uint8Array; contentType: string | null }
  /** 200, the headers at once, then the body one byte every `intervalMs`. */
  | { kind: 'drip'; body: string; intervalMs: number }
  /** 200 with `bytes` of JSON-looking padding, streamed with backpressure; `declareLength` sends content-length. */
  | { kind: 'huge'; bytes: number; declareLength?: boolean }
  /** A redirect to `location`. */
  | { kind: 'redirect'; location: string; status?: number }
  /** 200 with the full content-length of the key set, then a TCP reset after `afterBytes` bytes of body. */
  | { kind: 'reset'; afterBytes: number };

/** One request the server saw. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** `performance.now()` when it arrived. */
  readonly at: number;
}

/** A loopback HTTP server whose JWKS endpoint each test scripts, and which counts what it saw. */
export interface FaultServer {
  readonly origin: string;
  /** Requests on any path so far. */
  readonly requestCount: number;
  readonly requests: readonly SeenRequest[];
  /** Body bytes handed to the socket so far (for the size-cap test). */
  readonly bytesSent: number;
  /** `{origin}/{userPoolId}` */
  issuer(userPoolId: string): string;
  /** `{origin}/{userPoolId}/.well-known/jwks.json` */
  jwksUri(userPoolId: string): string;
  /** The key set that `{ kind: 'jwks' }` serves from now on. */
  setKeys(keys: TestKeyPair[] | Jwks): void;
  /** Do this for every JWKS request from now on (after any queued `behaveOnce`). */
  behave(behaviour: Behaviour): void;
  /** Do these for the next JWKS requests, one each, then go back to `behave`'s behaviour. */
  behaveOnce(...behaviours: Behaviour[]): void;
  /** Resolves once `count` requests in total have arrived. */
  waitForRequests(count: number): Promise<void>;
  /** Closes the server and every connection, hanging ones included. */
  close(): Promise<void>;
}

export interface FaultServerOptions {
  keys: TestKeyPair[] | Jwks;
  /** Default 127.0.0.1; any 127.x.y.z address works on Linux, which makes "another host" on loopback. */
  host?: string;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x20);

/**
 * Start a scriptable JWKS server on a random loopback port.
 *
 * ```ts
 * const server = await startFaultServer({ keys: [key] });
 * server.behaveOnce({ kind: 'status', status: 503 });
 * // first JWKS request gets a 503, the next ones the keys
 * await server.close();
 * ```
 */
export async function startFaultServer(options: FaultServerOptions): Promise<FaultServer> {
  const toJson = (keys: TestKeyPair[] | Jwks) =>
    JSON.stringify(Array.isArray(keys) ? buildJwks(...keys) : keys);
  let jwks = toJson(options.keys);
  let standing: Behaviour = { kind: 'jwks' };
  const queue: Behaviour[] = [];
  const requests: SeenRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let bytesSent = 0;

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const streamHuge = (response: ServerResponse, bytes: number) => {
    let left = bytes - 1;
    response.write('[');
    const pump = () => {
      while (left > 0 && !response.destroyed) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        bytesSent += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (left === 0) response.end();
    };
    pump();
  };

  const answer = (behaviour: Behaviour, response: ServerResponse) => {
    switch (behaviour.kind) {
      case 'jwks': {
        const fixed = behaviour.keys && toJson(behaviour.keys);
        const send = () => {
          response.writeHead(200, { 'content-type': 'application/json', ...behaviour.headers });
          response.end(fixed ?? jwks);
        };
        if (behaviour.delayMs) later(behaviour.delayMs, send);
        else send();
        return;
      }
      case 'hang':
        return;
      case 'status':
        response.writeHead(behaviour.status, { 'content-type': behaviour.contentType ?? 'application/json' });
        response.end(behaviour.body ?? '{"message":"scripted failure"}');
        return;
      case 'body':
        response.writeHead(
          200,
          behaviour.contentType === null ? {} : { 'content-type': behaviour.contentType },
        );
        response.end(behaviour.body);
        return;
      case 'drip': {
        response.writeHead(200, { 'content-type': 'application/json' });
        let index = 0;
        const next = () => {
          if (response.destroyed) return;
          if (index >= behaviour.body.length) {
            response.end();
            return;
          }
          response.write(behaviour.body[index++]);
          bytesSent++;
          later(behaviour.intervalMs, next);
        };
        next();
        return;
      }
      case 'huge':
        response.writeHead(200, {
          'content-type': 'application/json',
          ...(behaviour.declareLength ? { 'content-length': String(behaviour.bytes) } : {}),
        });
        streamHuge(response, behaviour.bytes);
        return;
      case 'redirect':
        response.writeHead(behaviour.status ?? 302, { location: behaviour.location });
        response.end();
        return;
      case 'reset': {
        const body = Buffer.from(jwks);
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(body.length),
        });
        response.write(body.subarray(0, behaviour.afterBytes), () => {
          bytesSent += behaviour.afterBytes;
          later(20, () => response.socket?.resetAndDestroy());
        });
        return;
      }
    }
  };

  const server = createServer((request, response) => {
    requests.push({ method: request.method ?? '', path: request.url ?? '', at: performance.now() });
    for (const waiter of [...waiters]) {
      if (requests.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    response.on('error', () => {}); // the client may abort mid-body: that is the point of several tests
    if (request.method === 'GET' && request.url?.endsWith('/.well-known/jwks.json')) {
      answer(queue.shift() ?? standing, response);
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"message":"not found"}');
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    get requestCount() {
      return requests.length;
    },
    requests,
    get bytesSent() {
      return bytesSent;
    },
    issuer: (userPoolId) => `${origin}/${userPoolId}`,
    jwksUri: (userPoolId) => `${origin}/${userPoolId}/.well-known/jwks.json`,
    setKeys(keys) {
      jwks = toJson(keys);
    },
    behave(behaviour) {
      standing = behaviour;
    },
    behaveOnce(...behaviours) {
      queue.push(...behaviours);
    },
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/**
 * A clock the test moves by hand (epoch ms), for behaviour that is about time: cooldown, max age,
 * stale-if-error, backoff.
 *
 * ```ts
 * const time = manualClock();
 * const cache = new JwksCache({ clock: time.clock });
 * time.advance(30_000);
 * ```
 */
export function manualClock(start = Date.now()): {
  clock: () => number;
  readonly now: number;
  advance(ms: number): void;
} {
  let now = start;
  return {
    clock: () => now,
    get now() {
      return now;
    },
    advance(ms) {
      now += ms;
    },
  };
}

/** Every message published on the JWKS channels while recording, in order. */
export interface EventRecorder {
  readonly events: readonly { name: JwksEventName; message: unknown }[];
  of<Name extends JwksEventName>(name: Name): JwksEventMessages[Name][];
  stop(): void;
}

/**
 * Subscribe to every channel of `JWKS_EVENTS` until `stop()`.
 *
 * ```ts
 * const recorder = recordEvents();
 * await cache.load(uri);
 * assert.equal(recorder.of('fetchSuccess').length, 1);
 * recorder.stop();
 * ```
 */
export function recordEvents(): EventRecorder {
  const events: { name: JwksEventName; message: unknown }[] = [];
  const listeners = (Object.keys(JWKS_EVENTS) as JwksEventName[]).map((name) => {
    const listener = (message: unknown) => events.push({ name, message });
    subscribe(JWKS_EVENTS[name], listener);
    return () => unsubscribe(JWKS_EVENTS[name], listener);
  });
  return {
    events,
    of: <Name extends JwksEventName>(name: Name) =>
      events.filter((event) => event.name === name).map((event) => event.message as JwksEventMessages[Name]),
    stop: () => {
      for (const stop of listeners) stop();
    },
  };
}

/**
 * Wait until no fetch is under way for `jwksUri` (a background refresh has finished).
 *
 * ```ts
 * cache.getKeySync(uri, kid); // starts a background refresh
 * await settle(cache, uri);
 * ```
 */
export async function settle(cache: JwksCache, jwksUri: string, limitMs = 10_000): Promise<void> {
  const started = performance.now();
  while (cache.inspect(jwksUri).refreshing) {
    if (performance.now() - started > limitMs)
      throw new Error(`${jwksUri} still refreshing after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

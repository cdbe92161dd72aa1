/**
 * A model-based test of JwksCache: fast-check runs random sequences of upstream rotations and
 * removals, outages, slow answers, clock jumps, known and unknown kids and refresh() calls against
 * a real cache fetching from a real loopback server, and after every step compares it with a plain
 * model of what the cache promises: which keys are trusted, how many requests were sent, and how
 * each call ended.
 *
 * Determinism: the clock is injected and only the commands move it; every answer is held by the
 * server until a `deliver` command releases it (so "slow" is a number of steps, not a timer); the
 * answer is fixed when the request is sent (the upstream as it was then); backoff is 0 (its jitter
 * is random), so a failed fetch may be retried at once.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { CognitoJwtError } from '../../src/errors.ts';
import { JwksCache } from '../../src/keys/jwks-cache.ts';
import { buildJwks, generateKeyPair, type TestKeyPair } from '../../src/testing/index.ts';

const MAX_AGE_MS = 60_000;
const COOLDOWN_MS = 30_000;
const STALE_IF_ERROR_MS = 120_000;
const KIDS = ['k0', 'k1', 'k2'] as const;
const UNKNOWN_KID = 'never-published';
type Kid = (typeof KIDS)[number];
/** How a call ended: 'ok' or the error code. */
type Outcome = string;

// ---------------------------------------------------------------- the loopback server

interface Answer {
  status: number;
  body: string;
}

/**
 * A JWKS server on loopback that holds every answer until told to release it. Requests carry
 * `?n=` (their order of sending); the answer of each is decided by the test when it is sent.
 */
interface HeldServer {
  origin: string;
  /** Answer request `n` (waits for it to arrive). */
  release(n: number, answer: Answer): Promise<void>;
  close(): Promise<void>;
}

async function startHeldServer(): Promise<HeldServer> {
  const arrived = new Map<number, ServerResponse>();
  const waiting = new Map<number, (response: ServerResponse) => void>();
  const server = createServer((request, response) => {
    const n = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('n'));
    response.on('error', () => {});
    const waiter = waiting.get(n);
    if (waiter) {
      waiting.delete(n);
      waiter(response);
    } else arrived.set(n, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async release(n, { status, body }) {
      const response =
        arrived.get(n) ?? (await new Promise<ServerResponse>((resolve) => waiting.set(n, resolve)));
      arrived.delete(n);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------- the model

interface ModelFetch {
  /** The upstream key set when the request left, or 'down' (it will be answered with a 503). */
  answer: ReadonlySet<Kid> | 'down';
  reason: 'load' | 'kid-miss' | 'max-age' | 'refresh';
  /** Calls waiting for this fetch, with how each ends on success (on failure: the fetch error). */
  waiters: { id: number; onSuccess: (keys: ReadonlySet<Kid>) => Outcome }[];
}

/** How often the runs reached the situations the model exists for (checked at the end). */
const reached = {
  refreshBehindFetch: 0,
  failedFetch: 0,
  cooldown: 0,
  notFound: 0,
  expired: 0,
  removedKeyDropped: 0,
};

/** What the cache promises, written as plainly as possible. */
class Model {
  upstream = new Set<Kid>(['k0']);
  down = false;
  now = 0;
  keys: ReadonlySet<Kid> = new Set();
  fetchedAt = 0;
  kidFetchEndedAt = Number.NEGATIVE_INFINITY;
  inFlight: ModelFetch | undefined;
  /** refresh() calls that arrived while a fetch was under way, answered by the next request. */
  queuedRefresh: ModelFetch['waiters'] | undefined;
  requests = 0;
  nextId = 0;
  /** Calls that have ended, by id, with how. */
  ended = new Map<number, Outcome>();

  usable(): boolean {
    return this.keys.size > 0 && this.now < this.fetchedAt + MAX_AGE_MS + STALE_IF_ERROR_MS;
  }

  trusted(): string[] {
    if (this.keys.size > 0 && !this.usable()) reached.expired++;
    return this.usable() ? [...this.keys].sort() : [];
  }

  start(reason: ModelFetch['reason']): ModelFetch {
    this.requests++;
    this.inFlight = { answer: this.down ? 'down' : new Set(this.upstream), reason, waiters: [] };
    return this.inFlight;
  }

  /** getKeySync: a known kid, and a background refresh once the keys are past their max age. */
  keySync(kid: string): boolean {
    if (this.keys.size === 0) return false;
    if (this.now >= this.fetchedAt + MAX_AGE_MS && !this.inFlight) this.start('max-age');
    return this.usable() && this.keys.has(kid as Kid);
  }

  /** getKey: returns the outcome now, or undefined when the call waits for a fetch. */
  key(id: number, kid: string): Outcome | undefined {
    if (this.keySync(kid)) return 'ok';
    if (!this.inFlight) {
      if (this.usable() && this.now < this.kidFetchEndedAt + COOLDOWN_MS) {
        reached.cooldown++;
        return 'ERR_KID_COOLDOWN';
      }
      this.start(this.usable() ? 'kid-miss' : 'load');
    }
    this.inFlight!.waiters.push({
      id,
      onSuccess: (keys) => {
        if (keys.has(kid as Kid)) return 'ok';
        reached.notFound++;
        return 'ERR_KEY_NOT_FOUND';
      },
    });
    return undefined;
  }

  /** refresh(): always answered by a request sent after the call. */
  refresh(id: number): void {
    const waiter = { id, onSuccess: () => 'ok' };
    if (!this.inFlight) this.start('refresh').waiters.push(waiter);
    else {
      reached.refreshBehindFetch++;
      this.queuedRefresh = [...(this.queuedRefresh ?? []), waiter];
    }
  }

  /** The answer of the fetch under way arrives. */
  deliver(): void {
    const fetch = this.inFlight!;
    this.inFlight = undefined;
    if (fetch.answer === 'down') reached.failedFetch++;
    else {
      if ([...this.keys].some((kid) => !(fetch.answer as ReadonlySet<Kid>).has(kid)))
        reached.removedKeyDropped++;
      this.keys = fetch.answer;
      this.fetchedAt = this.now;
    }
    if (fetch.reason === 'kid-miss') this.kidFetchEndedAt = this.now;
    for (const { id, onSuccess } of fetch.waiters) {
      this.ended.set(id, fetch.answer !== 'down' ? onSuccess(fetch.answer) : 'ERR_JWKS_FETCH_FAILED');
    }
    if (this.queuedRefresh) {
      const waiters = this.queuedRefresh;
      this.queuedRefresh = undefined;
      this.start('refresh').waiters.push(...waiters);
    }
  }
}

// ---------------------------------------------------------------- the real system

class Real {
  readonly uri: string;
  now = 0;
  readonly cache: JwksCache;
  /** What each request sent so far will be answered with (decided when it left). */
  readonly answers: Answer[] = [];
  released = 0;
  readonly calls = new Map<number, Promise<Outcome>>();
  readonly settled = new Map<number, Outcome>();
  /** The upstream as the server would answer right now. */
  upstream: Answer = { status: 200, body: '' };

  constructor(
    readonly server: HeldServer,
    run: number,
  ) {
    this.uri = `${server.origin}/pool_${run}/.well-known/jwks.json`;
    this.cache = new JwksCache({
      clock: () => this.now,
      fetch: (input, init) => {
        this.answers.push(this.upstream);
        return fetch(`${String(input)}?n=${this.answers.length}`, init);
      },
      timeoutMs: 60_000,
      maxAgeMs: MAX_AGE_MS,
      cooldownMs: COOLDOWN_MS,
      staleIfErrorMs: STALE_IF_ERROR_MS,
      backoffMs: 0,
      maxBackoffMs: 0,
    });
  }

  track(id: number, call: Promise<unknown>): void {
    const outcome = call.then(
      () => 'ok',
      (error: unknown) => (error instanceof CognitoJwtError ? error.code : `thrown: ${String(error)}`),
    );
    this.calls.set(id, outcome);
    void outcome.then((value) => this.settled.set(id, value));
  }

  trusted(): string[] {
    const { usable, kids } = this.cache.inspect(this.uri);
    return usable ? [...kids].sort() : [];
  }

  /** Release every answer still held, and those of the fetches they lead to (end of a run). */
  async drain(): Promise<void> {
    for (let rounds = 0; rounds < 100; rounds++) {
      while (this.released < this.answers.length) {
        const n = ++this.released;
        await this.server.release(n, this.answers[n - 1]!);
      }
      await pause(2);
      if (this.released === this.answers.length && !this.cache.inspect(this.uri).refreshing) break;
    }
    await Promise.allSettled(this.calls.values());
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait (briefly) until `ready` holds; the check after it says what differs if it never does. */
async function until(ready: () => boolean, limitMs = 3_000): Promise<void> {
  const started = performance.now();
  while (!ready() && performance.now() - started < limitMs) await pause(1);
}

let keyPairs: Record<Kid, TestKeyPair>;

function answerFor(model: Model): Answer {
  if (model.down) return { status: 503, body: '{"message":"down"}' };
  return { status: 200, body: JSON.stringify(buildJwks(...[...model.upstream].map((kid) => keyPairs[kid]))) };
}

/** After every step: the same keys trusted, the same number of requests, the same calls ended, the same way. */
async function compare(model: Model, real: Real): Promise<void> {
  await pause(0); // calls that end at once have ended
  await until(() => [...model.ended.keys()].every((id) => real.settled.has(id)));
  assert.equal(real.answers.length, model.requests, 'requests sent');
  assert.deepEqual(real.trusted(), model.trusted(), 'trusted kids');
  for (const [id, settled] of real.settled) {
    assert.equal(settled, model.ended.get(id) ?? '(still waiting)', `how call #${id} ended`);
  }
  for (const id of model.ended.keys()) assert.ok(real.settled.has(id), `call #${id} should have ended`);
}

// ---------------------------------------------------------------- the commands

type Command = fc.AsyncCommand<Model, Real>;

/** Keeps the upstream answer the real server would give in step with the model's upstream. */
function syncUpstream(model: Model, real: Real): void {
  real.upstream = answerFor(model);
}

class Rotate implements Command {
  constructor(readonly kid: Kid) {}
  check = (model: Readonly<Model>) => !model.upstream.has(this.kid);
  async run(model: Model, real: Real) {
    model.upstream.add(this.kid);
    syncUpstream(model, real);
    await compare(model, real);
  }
  toString = () => `rotate(+${this.kid})`;
}

class Remove implements Command {
  constructor(readonly kid: Kid) {}
  check = (model: Readonly<Model>) => model.upstream.has(this.kid) && model.upstream.size > 1;
  async run(model: Model, real: Real) {
    model.upstream.delete(this.kid);
    syncUpstream(model, real);
    await compare(model, real);
  }
  toString = () => `remove(${this.kid})`;
}

class Outage implements Command {
  constructor(readonly down: boolean) {}
  check = (model: Readonly<Model>) => model.down !== this.down;
  async run(model: Model, real: Real) {
    model.down = this.down;
    syncUpstream(model, real);
    await compare(model, real);
  }
  toString = () => (this.down ? 'upstream down' : 'upstream up');
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.now += this.ms;
    real.now += this.ms;
    await compare(model, real);
  }
  toString = () => `clock +${this.ms} ms`;
}

class KeySync implements Command {
  constructor(readonly kid: string) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const expected = model.keySync(this.kid);
    assert.equal(
      real.cache.getKeySync(real.uri, this.kid) !== undefined,
      expected,
      `getKeySync(${this.kid})`,
    );
    await compare(model, real);
  }
  toString = () => `getKeySync(${this.kid})`;
}

class GetKey implements Command {
  constructor(readonly kid: string) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const id = model.nextId++;
    const now = model.key(id, this.kid);
    if (now !== undefined) model.ended.set(id, now);
    real.track(id, real.cache.getKey(real.uri, this.kid));
    await compare(model, real);
  }
  toString = () => `getKey(${this.kid})`;
}

class Refresh implements Command {
  check = () => true;
  async run(model: Model, real: Real) {
    const id = model.nextId++;
    model.refresh(id);
    real.track(id, real.cache.refresh(real.uri));
    await compare(model, real);
  }
  toString = () => 'refresh()';
}

class Deliver implements Command {
  check = (model: Readonly<Model>) => model.inFlight !== undefined;
  async run(model: Model, real: Real) {
    model.deliver();
    const n = ++real.released;
    assert.ok(n <= real.answers.length, 'the real cache sent no request to answer');
    await real.server.release(n, real.answers[n - 1]!);
    // The answer is read and applied, and any fetch it leads to is sent, within a few ms.
    await until(
      () =>
        real.answers.length === model.requests &&
        real.cache.inspect(real.uri).refreshing === (model.inFlight !== undefined) &&
        real.cache.inspect(real.uri).fetchedAt?.getTime() ===
          (model.keys.size > 0 ? model.fetchedAt : undefined),
    );
    await compare(model, real);
  }
  toString = () => 'deliver the answer';
}

const kid = fc.constantFrom<Kid>(...KIDS);
const anyKid = fc.constantFrom<string>(...KIDS, UNKNOWN_KID);
const commands = fc.commands(
  [
    kid.map((k) => new Rotate(k)),
    kid.map((k) => new Remove(k)),
    fc.boolean().map((down) => new Outage(down)),
    fc
      .constantFrom(1_000, COOLDOWN_MS - 1, COOLDOWN_MS, MAX_AGE_MS, STALE_IF_ERROR_MS, 3 * MAX_AGE_MS)
      .map((ms) => new Advance(ms)),
    anyKid.map((k) => new KeySync(k)),
    anyKid.map((k) => new GetKey(k)),
    fc.constant(new Refresh()),
    fc.constant(new Deliver()),
    fc.constant(new Deliver()),
  ],
  { maxCommands: 30, size: 'max' },
);

// ---------------------------------------------------------------- the test

let server: HeldServer;
before(async () => {
  server = await startHeldServer();
  keyPairs = {
    k0: generateKeyPair({ kid: 'k0' }),
    k1: generateKeyPair({ kid: 'k1' }),
    k2: generateKeyPair({ kid: 'k2' }),
  };
});
after(() => server.close());

test('JwksCache against its model: trusted keys, requests sent and how calls end, over random steps', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(commands, async (steps) => {
      const real = new Real(server, run++);
      try {
        await fc.asyncModelRun(() => {
          const model = new Model();
          syncUpstream(model, real);
          return { model, real };
        }, steps);
      } finally {
        await real.drain();
      }
    }),
    { numRuns: 100, seed: 0x10_2026, includeErrorInReport: true },
  );
  for (const [situation, count] of Object.entries(reached))
    assert.ok(count > 0, `no run reached ${situation}`);
});

/**
 * The session rows of `npm run bench` (alone: `tsx bench/session.ts [--quick]`): reading a browser
 * session from its cookie against verifying a bearer token, in one run, interleaved.
 * - a new cookie (decrypt the AES-256-GCM chunks, parse, verify the access token) against an
 *   uncached bearer verification (the signature check);
 * - a repeated read of one cookie (cached by its value: compare, check times and revocation, the
 *   verifier's cache hit) against a verified-token cache hit.
 * Cookies are Cognito-sized: ID and access tokens from the test kit and a 1.7 KB refresh token.
 * Rows count CPU time (as the revocation rows do): on a shared machine a loop that waits for a core
 * would otherwise charge the wait to whichever row was running.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { CognitoVerifier } from '../src/index.ts';
import { CognitoSession, type SessionRequest } from '../src/session/index.ts';
import { generateKeyPair, mintAccessToken, mintIdToken, startJwksServer } from '../src/testing/index.ts';
import { cpuMs, median } from './measure.ts';

export interface SessionSettings {
  /** Distinct sessions (and tokens) per round of the "new" rows. */
  sessions: number;
  rounds: number;
  /** Calls per round of the repeat rows. */
  repeatCalls: number;
}

export const SESSION_SETTINGS: Record<'quick' | 'full', SessionSettings> = {
  quick: { sessions: 100, rounds: 2, repeatCalls: 2_000 },
  full: { sessions: 1_000, rounds: 7, repeatCalls: 50_000 },
};

export interface SessionBench {
  cookieCharacters: number;
  chunks: number;
  /** Median operations per second of each row. */
  bearerUncached: number;
  sessionNewCookie: number;
  bearerCacheHit: number;
  sessionCachedRead: number;
}

const POOL = 'local_benchpool';
const CLIENT = 'bench-web-client';
const SECRET = 'bench-secret-of-more-than-32-characters-000';

/** A new string with the same characters, as every request brings its own. */
const copy = (text: string) => Buffer.from(text, 'latin1').toString('latin1');

/**
 * A request carrying one `Cookie` header. A class, not an object with an arrow function: tsx keeps
 * function names by wrapping every closure it creates, which costs more than a cached read itself,
 * and a built server (or an adapter) pays nothing of the kind.
 */
class CookieRequest implements SessionRequest {
  readonly method = 'GET';
  readonly url: string;
  readonly #cookie: string;
  constructor(cookie: string, url = '/orders') {
    this.#cookie = cookie;
    this.url = url;
  }
  header(name: string): string | undefined {
    return name === 'cookie' ? this.#cookie : undefined;
  }
}

export async function measureSession(
  settings: SessionSettings,
  log: (message: string) => void = () => {},
): Promise<SessionBench> {
  const key = generateKeyPair();
  const pool = await startJwksServer({ keys: [key] });
  const issuer = pool.issuer(POOL);
  const nonces = new Map<string, string>();
  const accessTokens: string[] = [];
  let counter = 0;
  // The pool's token endpoint: every code becomes Cognito-sized tokens carrying its sign-in's nonce.
  const domain = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const code = new URLSearchParams(body).get('code') ?? '';
      const common = {
        key,
        issuer,
        clientId: CLIENT,
        sub: `user-${counter++}`,
        groups: ['users', 'readers'],
      };
      const accessToken = mintAccessToken({ ...common, claims: { origin_jti: crypto.randomUUID() } });
      accessTokens.push(accessToken);
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          id_token: mintIdToken({
            ...common,
            claims: { nonce: nonces.get(code), email: `${common.sub}@example.com` },
          }),
          access_token: accessToken,
          refresh_token: Buffer.from(crypto.getRandomValues(new Uint8Array(1_275))).toString('base64url'),
          expires_in: 3600,
          token_type: 'Bearer',
        }),
      );
    });
  });
  domain.listen(0, '127.0.0.1');
  await once(domain, 'listening');
  const config = { userPoolId: POOL, issuer, clientId: CLIENT, tokenUse: 'access' } as const;
  const newVerifier = async (cache: boolean) => {
    const verifier = new CognitoVerifier(config, cache ? {} : { verifiedTokenCache: false });
    await verifier.hydrate();
    return verifier;
  };
  const newSession = async () =>
    new CognitoSession({
      domain: `http://127.0.0.1:${(domain.address() as AddressInfo).port}`,
      clientId: CLIENT,
      verifier: await newVerifier(true),
      idTokenVerifier: new CognitoVerifier({ ...config, tokenUse: 'id' }),
      appOrigin: 'https://app.example.com',
      secrets: [SECRET],
    });
  const request = (cookie: string): SessionRequest => new CookieRequest(cookie);

  try {
    log(`session: signing in ${settings.sessions} sessions`);
    const maker = await newSession();
    const cookies: string[] = [];
    for (let i = 0; i < settings.sessions; i++) {
      const start = await maker.signIn(request(''));
      const authorize = new URL(start.headers.location as string);
      nonces.set(`code-${i}`, authorize.searchParams.get('nonce') as string);
      const pre = (start.cookies[0] as string).split(';')[0] as string;
      const answer = await maker.callback(
        new CookieRequest(pre, `/auth/callback?code=code-${i}&state=${authorize.searchParams.get('state')}`),
      );
      cookies.push(
        answer.cookies
          .filter((cookie) => !cookie.includes('Max-Age=0'))
          .map((cookie) => cookie.split(';')[0])
          .join('; '),
      );
    }
    const rows = {
      bearerUncached: [] as number[],
      sessionNewCookie: [] as number[],
      bearerCacheHit: [] as number[],
      sessionCachedRead: [] as number[],
    };
    const warmVerifier = await newVerifier(true);
    const warmSession = await newSession();
    const oneToken = accessTokens[0] as string;
    const oneCookie = cookies[0] as string;
    await warmVerifier.verify(oneToken);
    await warmSession.read(request(oneCookie));
    await warmSession.read(request(oneCookie)); // a cookie enters the read cache at its second read
    // Every read gets a new string, as a request brings its own. Copies are made 256 at a time,
    // outside the clock, so no row holds megabytes of them alive (which would measure the garbage
    // collector instead, and more for 5 KB cookies than for 1 KB tokens).
    const timed = async (
      text: (index: number) => string,
      calls: number,
      read: (copy: string) => Promise<unknown>,
    ): Promise<number> => {
      let elapsed = 0;
      for (let done = 0; done < calls; done += 256) {
        const copies = Array.from({ length: Math.min(256, calls - done) }, (_, i) => copy(text(done + i)));
        const start = cpuMs();
        for (const item of copies) await read(item);
        elapsed += cpuMs() - start;
      }
      return calls / (elapsed / 1000);
    };
    const repeat = (text: string, read: (copy: string) => Promise<unknown>) =>
      timed(() => text, settings.repeatCalls, read);
    const runs: [keyof typeof rows, () => Promise<number>][] = [
      [
        'bearerUncached',
        async () => {
          const verifier = await newVerifier(false);
          return timed(
            (i) => accessTokens[i] as string,
            accessTokens.length,
            (token) => verifier.verify(token),
          );
        },
      ],
      [
        'sessionNewCookie',
        async () => {
          const session = await newSession();
          return timed(
            (i) => cookies[i] as string,
            cookies.length,
            (header) => session.read(request(header)),
          );
        },
      ],
      ['bearerCacheHit', () => repeat(oneToken, (token) => warmVerifier.verify(token))],
      ['sessionCachedRead', () => repeat(oneCookie, (header) => warmSession.read(request(header)))],
    ];
    for (let round = 0; round <= settings.rounds; round++) {
      log(`session: round ${round + 1} of ${settings.rounds + 1}`);
      for (let i = 0; i < runs.length; i++) {
        const [name, run] = runs[(i + round) % runs.length] as (typeof runs)[number];
        const opsPerSecond = await run();
        if (round > 0) rows[name].push(opsPerSecond); // round 0 warms up
      }
    }
    return {
      cookieCharacters: oneCookie.length,
      chunks: oneCookie.split(';').length,
      bearerUncached: median(rows.bearerUncached),
      sessionNewCookie: median(rows.sessionNewCookie),
      bearerCacheHit: median(rows.bearerCacheHit),
      sessionCachedRead: median(rows.sessionCachedRead),
    };
  } finally {
    domain.close();
    await pool.close();
  }
}

/** The two targets: time per read at most 1.5 × time per bearer verification. */
export function sessionTargets(result: SessionBench): { target: string; measured: string; met: boolean }[] {
  const ratio = (bearer: number, session: number) => bearer / session; // time ratio = ops ratio inverted
  const fresh = ratio(result.bearerUncached, result.sessionNewCookie);
  const cached = ratio(result.bearerCacheHit, result.sessionCachedRead);
  return [
    {
      target: 'session read from a new cookie ≤ 1.5 × an uncached bearer verification',
      measured: `${fresh.toFixed(2)} ×`,
      met: fresh <= 1.5,
    },
    {
      target: 'repeated session read (cached by cookie value) ≤ 1.5 × a verified-token cache hit',
      measured: `${cached.toFixed(2)} ×`,
      met: cached <= 1.5,
    },
  ];
}

const perOp = (opsPerSecond: number) => `${(1e6 / opsPerSecond).toFixed(2)} µs`;

/** The rows as a table: plain text or Markdown. */
export function formatSession(result: SessionBench, style: 'text' | 'markdown' = 'text'): string {
  const rows: [string, number][] = [
    ['bearer token, uncached verification', result.bearerUncached],
    ['session, new cookie (decrypt + verify)', result.sessionNewCookie],
    ['bearer token, verified-token cache hit', result.bearerCacheHit],
    ['session, repeated cookie (cached by value)', result.sessionCachedRead],
  ];
  const title = `Session reads (cookie of ${result.cookieCharacters} characters in ${result.chunks} chunks)`;
  if (style === 'markdown') {
    return [
      `### ${title}`,
      '',
      '| read | ops/s | per read |',
      '| --- | ---: | ---: |',
      ...rows.map(([name, ops]) => `| ${name} | ${Math.round(ops)} | ${perOp(ops)} |`),
    ].join('\n');
  }
  return [
    title,
    ...rows.map(
      ([name, ops]) =>
        `  ${name.padEnd(44)} ${String(Math.round(ops)).padStart(9)} ops/s  ${perOp(ops).padStart(10)}`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const result = await measureSession(SESSION_SETTINGS[values.quick ? 'quick' : 'full'], (message) =>
    process.stderr.write(`${message}\n`),
  );
  console.log(formatSession(result));
  for (const target of sessionTargets(result))
    console.log(`  ${target.met ? '✔' : '✘'} ${target.target}: ${target.measured}`);
}

import { X509Certificate } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { type DetailedPeerCertificate, rootCertificates, connect as tlsConnect } from 'node:tls';
import { CognitoJwtError } from '../../errors.ts';
import { JwksCache } from '../../keys/jwks-cache.ts';
import { nodeFetch } from '../../platform/https-fetch.ts';
import {
  hasNativeProxySupport,
  type ProxyEnv,
  proxyFor,
  proxySettings,
  redactUrl,
} from '../../platform/proxy.ts';
import { poolIssuers } from '../../pool/issuers.ts';
import { CLOCK_OFFSET_THRESHOLD_MS } from '../../verify/clock-hint.ts';
import type { VerifierConfig } from '../../verify/config.ts';
import { CognitoVerifier } from '../../verify/verifier.ts';
import { oneOf, parseCommand, required } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, type ExitCode, exitCodeFor } from '../exit-code.ts';
import { readToken } from '../input.ts';
import type { Channel } from '../output.ts';
import { printable } from '../text.ts';
import { describeToken } from '../token-report.ts';

const HELP = `Usage: cognito-jwt doctor --user-pool-id ID [--client-id ID ...] [--token-use id|access|any]
                          [--token TOKEN|-] [--issuer URL ...]

Check what stands between this host and the pool's keys, one line per check with what to do
next: the Node version and platform, the proxy settings in use, and for both issuer forms of
the pool (the original cognito-idp.… and the multi-Region issuer-cognito-idp.…) name
resolution over IPv4 and IPv6, the TLS handshake (naming the chain's root when it is not one
of Node's bundled roots: a sign of interception) and the JWKS answer; then this host's clock
against the JWKS server's Date header. Given a token, say what it is, which pool it is from,
and whether this config accepts it, and why.

Options:
  --user-pool-id ID   the pool, e.g. eu-west-1_AbC123
  --client-id ID      an accepted app client id (repeatable); "any" accepts every client
  --token-use USE     id, access or any (default any)
  --token TOKEN|-     a token to check; "-" reads it from stdin (prefer that: no shell history)
  --issuer URL        instead of the pool's two issuers (emulators; http: only on loopback);
                      repeat it for a second issuer form
  --debug             print the stack of an error
  -h, --help          show this help

Examples:
  cognito-jwt doctor --user-pool-id eu-west-1_AbC123
  pbpaste | cognito-jwt doctor --user-pool-id eu-west-1_AbC123 --client-id 1example23456789 --token -

Exit codes: 0 every check passed (warnings allowed), 1 the token is refused, 2 usage,
3 the keys cannot be fetched from any issuer form.`;

const OPTIONS = {
  'user-pool-id': { type: 'string' },
  'client-id': { type: 'string', multiple: true },
  'token-use': { type: 'string' },
  token: { type: 'string' },
  issuer: { type: 'string', multiple: true },
} as const;

/** What `doctor` reaches the world through; tests give their own (this machine has no DNS). */
export interface DoctorDeps {
  /** The addresses of `hostname` for one family (`[]` when it has none); default `dns.lookup`. */
  lookup?: (hostname: string, family: 4 | 6) => Promise<string[]>;
  /** Roots trusted besides Node's bundled ones (and `NODE_EXTRA_CA_CERTS`). */
  ca?: readonly string[];
  /** Where proxy variables are read; default `process.env`. */
  env?: ProxyEnv;
  /** Give up a network check after this long. Default 5 000 ms. */
  timeoutMs?: number;
}

type Status = 'ok' | 'warn' | 'fail' | 'info';

const MARKS: Record<Status, [string, Parameters<Channel['paint']>[0]]> = {
  ok: ['✔', 'green'],
  warn: ['!', 'yellow'],
  fail: ['✗', 'red'],
  info: ['·', 'dim'],
};

async function systemLookup(hostname: string, family: 4 | 6): Promise<string[]> {
  try {
    return (await dnsLookup(hostname, { family, all: true })).map((entry) => entry.address);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NODATA' || code === 'EAI_NONAME')
      return [];
    throw error;
  }
}

/** `net.LookupFunction` over a {@link DoctorDeps.lookup}: IPv4 first, then IPv6. */
function lookupFunction(lookup: NonNullable<DoctorDeps['lookup']>): LookupFunction {
  return (hostname, options, callback) => {
    const families: (4 | 6)[] = options.family === 6 ? [6] : options.family === 4 ? [4] : [4, 6];
    Promise.all(
      families.map((family) =>
        lookup(hostname, family).then((list) => list.map((a) => ({ address: a, family }))),
      ),
    )
      .then((lists) => {
        const all = lists.flat();
        if (all.length === 0) {
          const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          (callback as (error: Error) => void)(error);
        } else if (options.all) (callback as (e: null, a: typeof all) => void)(null, all);
        else callback(null, all[0]!.address, all[0]!.family);
      })
      .catch((error: Error) => (callback as (error: Error) => void)(error));
  };
}

/** Fingerprints and subjects of Node's bundled roots, made once. */
let bundled: { fingerprints: Set<string>; subjects: Set<string> } | undefined;
function bundledRoots(): { fingerprints: Set<string>; subjects: Set<string> } {
  if (bundled === undefined) {
    bundled = { fingerprints: new Set(), subjects: new Set() };
    for (const pem of rootCertificates) {
      const certificate = new X509Certificate(pem);
      bundled.fingerprints.add(certificate.fingerprint256);
      bundled.subjects.add(certificate.subject);
    }
  }
  return bundled;
}

function nameOf(subject: Record<string, unknown> | undefined): string {
  const value = subject?.CN ?? subject?.O ?? 'an unnamed certificate';
  return printable(Array.isArray(value) ? value.join(', ') : String(value));
}

/** `{ CN: 'x', O: 'y' }` as `X509Certificate.subject` spells it (`CN=x\nO=y`), for matching. */
function subjectLine(subject: Record<string, unknown>): string {
  return Object.entries(subject)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join('\n');
}

interface TlsFinding {
  status: Status;
  text: string;
}

/** Handshake with `url`'s host and name the root its chain ends at. */
function checkTls(url: URL, deps: Required<Pick<DoctorDeps, 'timeoutMs'>> & DoctorDeps): Promise<TlsFinding> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false, // to see the chain of a handshake that would fail, and say why
      ...(deps.ca ? { ca: [...rootCertificates, ...deps.ca] } : {}),
      ...(deps.lookup ? { lookup: lookupFunction(deps.lookup) } : {}),
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no handshake within ${deps.timeoutMs} ms`)),
      deps.timeoutMs,
    );
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        status: 'fail',
        text: `tls ${url.host}: ${printable(error.code ?? error.message)}: the handshake failed. Check the firewall and the proxy settings below`,
      });
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      let top = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      const seen = new Set<string>();
      while (top.issuerCertificate && top.issuerCertificate !== top && !seen.has(top.fingerprint256)) {
        seen.add(top.fingerprint256);
        if (top.issuerCertificate.fingerprint256 === top.fingerprint256) break;
        top = top.issuerCertificate;
      }
      const selfSigned = subjectLine(top.subject) === subjectLine(top.issuer);
      const rootName = selfSigned ? nameOf(top.subject) : nameOf(top.issuer);
      const roots = bundledRoots();
      const isBundled = selfSigned
        ? roots.fingerprints.has(top.fingerprint256)
        : roots.subjects.has(subjectLine(top.issuer));
      const { authorized, authorizationError } = socket;
      socket.destroy();
      if (!authorized) {
        resolve({
          status: 'fail',
          text:
            `tls ${url.host}: the chain ends at "${rootName}", which this host does not trust (${printable(String(authorizationError))}). ` +
            'If a corporate gateway intercepts TLS, set NODE_EXTRA_CA_CERTS to its root certificate (PEM)',
        });
      } else if (!isBundled) {
        resolve({
          status: 'warn',
          text:
            `tls ${url.host}: trusted, but the chain ends at "${rootName}", which is not one of Node's bundled roots: ` +
            'something intercepts TLS (a corporate gateway or proxy). Make sure that is expected',
        });
      } else {
        resolve({
          status: 'ok',
          text: `tls ${url.host}: trusted, root "${rootName}" (one of Node's bundled roots)`,
        });
      }
    });
  });
}

/**
 * `cognito-jwt doctor` with its ways of reaching the world given (tests inject a resolver, extra
 * roots and the environment).
 *
 * ```ts
 * const doctor = createDoctorCommand({ lookup: async (host, family) => (family === 4 ? ['127.0.0.1'] : []) });
 * const exitCode = await doctor.run(['--user-pool-id', 'eu-west-1_AbC123'], context);
 * ```
 */
export function createDoctorCommand(given: DoctorDeps = {}): Command {
  return {
    name: 'doctor',
    summary: 'check DNS, TLS, proxies, both issuers, the clock, and optionally a token',
    help: HELP,
    async run(args, { terminal, stdin, now }) {
      const deps = { timeoutMs: 5_000, ...given };
      const env = deps.env ?? process.env;
      const lookup = deps.lookup ?? systemLookup;
      const { values } = parseCommand('doctor', args, OPTIONS, 0);
      const userPoolId = required('doctor', '--user-pool-id', values['user-pool-id']);
      const tokenUse = oneOf('doctor', '--token-use', values['token-use'] ?? 'any', ['id', 'access', 'any']);
      const clientIds = values['client-id'];
      // Check the pool id (and the --issuer URLs) before any network, as the verifier would.
      const issuers = values.issuer ?? poolIssuers(userPoolId);
      const configs: VerifierConfig[] = issuers.map((issuer) => ({
        userPoolId,
        issuer,
        clientId: clientIds === undefined || clientIds.includes('any') ? null : clientIds,
        tokenUse: tokenUse === 'any' ? null : tokenUse,
      }));
      const cache = new JwksCache({
        timeoutMs: deps.timeoutMs,
        fetch: (input, init) =>
          nodeFetch(input, init ?? {}, {
            env,
            ...(deps.ca ? { ca: deps.ca } : {}),
            ...(deps.lookup ? { lookup: lookupFunction(deps.lookup) } : {}),
          }),
      });
      const verifier = new CognitoVerifier(configs.length === 1 ? configs[0]! : configs, {
        jwksCache: cache,
        clock: now,
      });
      const token = values.token === undefined ? undefined : await readToken('doctor', values.token, stdin);

      const { out } = terminal;
      let worst: Status = 'ok';
      const report = (status: Status, text: string) => {
        if (status === 'fail' || (status === 'warn' && worst !== 'fail')) worst = status;
        const [mark, style] = MARKS[status];
        out.line(`${out.paint(style, mark)} ${text}`);
      };

      report(
        'info',
        `node ${process.version} on ${process.platform} ${process.arch}${
          hasNativeProxySupport() ? ' (proxy support built in)' : ''
        }`,
      );

      // Proxies: what is set, and what it means for each JWKS host.
      const settings = proxySettings(env);
      const set = [settings.https, settings.http, settings.noProxy].filter(
        (setting) => setting !== undefined,
      );
      if (set.length === 0)
        report('info', 'proxy: no HTTPS_PROXY, HTTP_PROXY or NO_PROXY set: connecting directly');
      else {
        report(
          'info',
          `proxy: ${set.map((setting) => `${setting.variable}=${setting.variable.toLowerCase() === 'no_proxy' ? printable(setting.value) : redactUrl(setting.value)}`).join(' ')}`,
        );
      }

      let keysFrom = 0;
      for (const [index, entry] of verifier.issuers.entries()) {
        const form =
          issuers.length === 2 ? (index === 0 ? 'original issuer' : 'multi-Region issuer') : 'issuer';
        const url = new URL(entry.jwksUri);
        const host = url.hostname.replace(/^\[|\]$/g, '');
        out.line();
        out.line(`${form} ${printable(entry.issuer)}`);

        // Name resolution, both families.
        let resolvable = true;
        if (isIP(host)) report('info', `dns ${host}: an IP address, nothing to resolve`);
        else {
          const [v4, v6] = await Promise.all(
            ([4, 6] as const).map((family) =>
              lookup(host, family).then(
                (addresses) => ({ addresses, error: undefined }),
                (error: Error) => ({ addresses: [] as string[], error }),
              ),
            ),
          );
          const list = (found: { addresses: string[]; error: Error | undefined }) =>
            found.error ? `error (${printable(found.error.message)})` : found.addresses.join(', ') || 'none';
          const summary = `IPv4 ${list(v4!)}; IPv6 ${list(v6!)}`;
          if (v4!.addresses.length === 0 && v6!.addresses.length === 0) {
            resolvable = false;
            const route = proxyFor(url, env);
            report(
              route && 'proxy' in route ? 'warn' : 'fail',
              `dns ${host}: ${summary}. ${
                route && 'proxy' in route
                  ? 'The proxy resolves it for this host, so this may be expected'
                  : 'Check /etc/resolv.conf or the DNS server, or set HTTPS_PROXY if this network needs a proxy'
              }`,
            );
          } else if (v4!.addresses.length === 0) {
            report('warn', `dns ${host}: ${summary}. Only IPv6: make sure this host has an IPv6 route`);
          } else report('ok', `dns ${host}: ${summary}`);
        }

        // The route and the handshake.
        const route = proxyFor(url, env);
        if (route && 'proxy' in route) {
          report('info', `route ${url.host}: through ${redactUrl(route.proxy.href)} (${route.variable})`);
        } else if (route && 'bypass' in route) {
          report(
            'info',
            `route ${url.host}: directly, ${route.variable} entry "${printable(route.bypass)}" bypasses the proxy`,
          );
        }
        if (url.protocol === 'https:' && resolvable && !(route && 'proxy' in route)) {
          const finding = await checkTls(url, deps);
          report(finding.status, finding.text);
        } else if (url.protocol === 'http:') {
          report('info', `tls ${url.host}: plain http (loopback only): no TLS to check`);
        }

        // The JWKS answer.
        try {
          await cache.load(entry.jwksUri);
          const info = cache.inspect(entry.jwksUri);
          keysFrom++;
          report(
            'ok',
            `jwks ${printable(entry.jwksUri)}: ${info.kids.length} usable key${info.kids.length === 1 ? '' : 's'} (${info.kids.map(printable).join(', ')})`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          report(
            index > 0 && keysFrom > 0 ? 'warn' : 'fail',
            `jwks ${printable(entry.jwksUri)}: ${printable(message)}. ${
              index > 0 && keysFrom > 0
                ? 'Tokens with this issuer form cannot be verified from here; the other form works'
                : 'Check the checks above; the verifier answers 503 until this works'
            }`,
          );
        }
      }

      // The clock, from the first answer that had a Date.
      out.line();
      const offset = verifier.issuers.map((entry) => cache.inspect(entry.jwksUri).clockOffset).find(Boolean);
      if (offset === undefined)
        report('warn', 'clock: no JWKS answer with a Date header: the offset is unknown');
      else {
        const seconds = (offset.offsetMs / 1000).toFixed(1);
        const uncertainty = (offset.uncertaintyMs / 1000).toFixed(1);
        const off = Math.abs(offset.offsetMs) - offset.uncertaintyMs > CLOCK_OFFSET_THRESHOLD_MS;
        report(
          off ? 'warn' : 'ok',
          `clock: this host is ${seconds} s ${offset.offsetMs >= 0 ? 'ahead of' : 'behind'} the JWKS server (± ${uncertainty} s, from its Date header)${
            off
              ? `, more than ${CLOCK_OFFSET_THRESHOLD_MS / 1000} s: fresh tokens may be refused as expired or not yet valid. Synchronise the clock (NTP)`
              : ''
          }`,
        );
      }

      let exit: ExitCode = keysFrom === 0 ? EXIT.keysUnavailable : EXIT.ok;
      if (token !== undefined) {
        out.line();
        const described = describeToken(token, now() / 1000);
        const kind = {
          id: 'an ID token',
          access: 'an access token',
          'client-credentials': 'an access token (client credentials: a machine, no user)',
          refresh: 'a refresh token',
          alb: "a load balancer's x-amzn-oidc-data token",
          unknown: 'not a Cognito ID or access token',
        }[described.kind];
        report('info', `token: ${kind}`);
        const pool = described.issuer?.userPoolId;
        if (described.issuer !== undefined) {
          const ours = verifier.issuers.some((entry) => entry.issuer === described.issuer?.issuer);
          report(
            ours ? 'ok' : 'fail',
            `token pool: ${printable(pool ?? '?')} (iss ${printable(described.issuer.issuer)})${
              ours
                ? ''
                : `: not an issuer of ${printable(userPoolId)}. Use a token from this pool, or check --user-pool-id`
            }`,
          );
        }
        try {
          await verifier.verify(token);
          report(
            'ok',
            'token accepted: signature, issuer, client, token_use and times all check out with this config',
          );
        } catch (error) {
          if (!(error instanceof CognitoJwtError)) throw error;
          report('fail', `token refused: ${error.code}: ${printable(error.message)}. ${advice(error)}`);
          exit = exitCodeFor(error);
        }
      }
      out.line();
      out.line(
        worst === 'ok'
          ? 'every check passed'
          : worst === 'warn'
            ? 'passed, with warnings (!) worth a look'
            : 'some checks failed (✗): the line says what to do',
      );
      return exit;
    },
  };
}

/** What to do about a refused token, in plain words. */
function advice(error: CognitoJwtError): string {
  switch (error.code) {
    case 'ERR_TOKEN_EXPIRED':
      return 'Get a new token (refresh it at /oauth2/token); if it should be valid, check the clock line above';
    case 'ERR_TOKEN_NOT_YET_VALID':
    case 'ERR_TOKEN_ISSUED_IN_FUTURE':
      return 'Check the clock line above';
    case 'ERR_CLIENT_MISMATCH':
      return 'Add its client with --client-id, or use a token from the expected app client';
    case 'ERR_TOKEN_USE_MISMATCH':
      return 'APIs usually take the access token; pass --token-use to match what your API expects';
    case 'ERR_ISSUER_MISMATCH':
      return 'The token is from another pool (or region): check --user-pool-id';
    case 'ERR_REFRESH_TOKEN_PRESENTED':
      return 'Refresh tokens are exchanged at /oauth2/token, never sent to an API';
    case 'ERR_KEY_NOT_FOUND':
    case 'ERR_SIGNATURE_INVALID':
      return 'It was not signed by this pool: a test token, or another pool with the same id shape';
    default:
      return error.status === 503
        ? 'The keys are unavailable: see the jwks lines above'
        : 'See docs/verifier.md';
  }
}

/**
 * `cognito-jwt doctor`: what stands between this host and the pool's keys, one line per check.
 *
 * ```ts
 * const exitCode = await doctorCommand.run(['--user-pool-id', 'eu-west-1_AbC123'], context);
 * ```
 */
export const doctorCommand: Command = createDoctorCommand();

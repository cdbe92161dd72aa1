import type { Agent } from 'node:http';

/**
 * Forward proxies for the Node transport, from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (the
 * lower-case spellings win, as in curl and Node). Node 22.21+ and 24.5+ tunnel through a proxy
 * themselves (an `Agent` with `proxyEnv`); on older Node the optional peer dependencies
 * `https-proxy-agent` / `http-proxy-agent` do it, loaded only when a proxy applies. Which proxy
 * applies is decided here, the same way on every Node version, so `NO_PROXY` means one thing.
 *
 * ```ts
 * const choice = proxyFor(new URL('https://cognito-idp.eu-west-1.amazonaws.com/x'), process.env);
 * if (choice?.proxy) console.log(`through ${redactUrl(choice.proxy.href)} (${choice.variable})`);
 * ```
 */

/** The environment variables read, as a plain record (`process.env` or a test's own). */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** One setting and the variable it came from, e.g. `{ variable: 'https_proxy', value: '…' }`. */
export interface ProxySetting {
  readonly variable: string;
  readonly value: string;
}

/** The proxy settings in `env`: lower case first, as Node and curl read them; empty values are unset. */
export function proxySettings(env: ProxyEnv): {
  https: ProxySetting | undefined;
  http: ProxySetting | undefined;
  noProxy: ProxySetting | undefined;
} {
  const read = (name: string): ProxySetting | undefined => {
    for (const variable of [name.toLowerCase(), name]) {
      const value = env[variable]?.trim();
      if (value) return { variable, value };
    }
    return undefined;
  };
  return { https: read('HTTPS_PROXY'), http: read('HTTP_PROXY'), noProxy: read('NO_PROXY') };
}

/**
 * What a request to `target` goes through: `{ proxy, variable }`, `{ bypass }` (the `NO_PROXY`
 * entry that matched), or `undefined` when no proxy variable applies to its scheme.
 */
export function proxyFor(
  target: URL,
  env: ProxyEnv,
): { proxy: URL; variable: string } | { bypass: string; variable: string } | undefined {
  const settings = proxySettings(env);
  const setting =
    target.protocol === 'https:' ? settings.https : target.protocol === 'http:' ? settings.http : undefined;
  if (setting === undefined) return undefined;
  const entry = settings.noProxy && noProxyMatch(target, settings.noProxy.value);
  if (entry !== undefined && settings.noProxy) return { bypass: entry, variable: settings.noProxy.variable };
  let proxy: URL;
  try {
    // `proxy.example:3128` without a scheme is read as http://, as curl does.
    proxy = new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(setting.value) ? setting.value : `http://${setting.value}`,
    );
  } catch {
    throw new TypeError(`fetch failed: ${setting.variable} is not a URL (${redactUrl(setting.value)})`);
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new TypeError(
      `fetch failed: ${setting.variable} names a ${proxy.protocol} proxy (${redactUrl(proxy.href)}); only http: and https: proxies are supported`,
    );
  }
  return { proxy, variable: setting.variable };
}

/**
 * The `NO_PROXY` entry that matches `target`, if any. Entries are separated by commas or spaces;
 * `*` matches every host; `example.com`, `.example.com` and `*.example.com` match the host and its
 * subdomains; an entry with `:port` matches that port only; IP addresses match exactly.
 */
export function noProxyMatch(target: URL, noProxy: string): string | undefined {
  const host = target.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return raw;
    let name = entry;
    let entryPort: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      name = bracketed[1]!;
      entryPort = bracketed[2];
    } else if ((entry.match(/:/g) ?? []).length === 1) {
      [name, entryPort] = entry.split(':') as [string, string];
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    name = name.replace(/^\*?\./, '').replace(/\.$/, '');
    if (host === name || host.endsWith(`.${name}`)) return raw;
  }
  return undefined;
}

/** `http://user:secret@proxy:3128` → `http://***@proxy:3128/`: credentials are never printed. */
export function redactUrl(value: string): string {
  // `user:pass@host:port` without a scheme would parse as a URL whose scheme is `user:`.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return hideUserInfo(value);
  try {
    const url = new URL(value);
    if (url.username === '' && url.password === '') return url.href;
    url.username = '***';
    url.password = '';
    return url.href;
  } catch {
    return hideUserInfo(value);
  }
}

/** Not a URL: hide anything before an @, which may be credentials. */
function hideUserInfo(value: string): string {
  return value.includes('@') ? `***@${value.slice(value.lastIndexOf('@') + 1)}` : value;
}

/** Node 22.21+ and 24.5+ (and later majors) tunnel through a proxy themselves: `Agent({ proxyEnv })`. */
export function hasNativeProxySupport(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 25 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21);
}

const agents = new Map<string, Promise<Agent>>();

/**
 * The agent that sends requests for `target`'s scheme through `proxy`, one per proxy and scheme,
 * kept for the process. Rejects with a `TypeError` saying what to do when this Node cannot.
 */
export function proxyAgent(target: URL, proxy: URL, variable: string): Promise<Agent> {
  const native = hasNativeProxySupport();
  const key = `${native}|${target.protocol}|${proxy.href}`;
  let agent = agents.get(key);
  if (agent === undefined) {
    agent = createAgent(target.protocol === 'https:', proxy, variable, native);
    agents.set(key, agent);
    agent.catch(() => agents.delete(key)); // installing the peer later works without a restart
  }
  return agent;
}

async function createAgent(secure: boolean, proxy: URL, variable: string, native: boolean): Promise<Agent> {
  if (native) {
    // Node's own support, on an agent of ours only: NO_PROXY was applied above, so the agent gets
    // just the one proxy variable, and no global flag (NODE_USE_ENV_PROXY) is needed.
    const proxyEnv = secure ? { HTTPS_PROXY: proxy.href } : { HTTP_PROXY: proxy.href };
    const { Agent: AgentClass } = secure ? await import('node:https') : await import('node:http');
    return new AgentClass({ keepAlive: true, proxyEnv } as ConstructorParameters<typeof AgentClass>[0]);
  }
  const peer = secure ? 'https-proxy-agent' : 'http-proxy-agent';
  let module: Record<string, unknown>;
  try {
    module = (await import(peer)) as Record<string, unknown>;
  } catch (cause) {
    throw new TypeError(
      `fetch failed: ${variable} is set (${redactUrl(proxy.href)}) but Node ${process.versions.node} cannot use a proxy by itself: ` +
        `install the optional peer dependency ${peer} (npm install ${peer}), run Node 22.21+ or 24.5+, ` +
        'or list the host in NO_PROXY',
      { cause },
    );
  }
  const AgentClass = (secure ? module.HttpsProxyAgent : module.HttpProxyAgent) as new (
    proxy: URL,
    options: { keepAlive: boolean },
  ) => Agent;
  return new AgentClass(proxy, { keepAlive: true });
}

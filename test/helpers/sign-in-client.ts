/**
 * A scripted browser for the sign-in flow over plain HTTP: follows redirects by hand, keeps the
 * cookies of each origin (name → value; `Max-Age=0` removes), and maps the app's public origin
 * (what the session and Cognito know) to the loopback address it listens on.
 */
export class ScriptedBrowser {
  readonly jars = new Map<string, Map<string, string>>();

  /** `publicOrigin` (e.g. http://localhost:1234) is served at `listenOrigin` (http://127.0.0.1:1234). */
  constructor(
    readonly publicOrigin: string,
    readonly listenOrigin: string,
  ) {}

  jar(origin: string): Map<string, string> {
    let jar = this.jars.get(origin);
    if (!jar) {
      jar = new Map();
      this.jars.set(origin, jar);
    }
    return jar;
  }

  /** The app's cookies as a `Cookie` header. */
  cookieHeader(origin = this.publicOrigin): string {
    return [...this.jar(origin)].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** One request, no redirect followed; cookies stored. `url` is absolute (public) or a path on the app. */
  async request(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    const target = new URL(url, this.publicOrigin);
    const publicOrigin = target.origin;
    const real =
      publicOrigin === this.publicOrigin
        ? new URL(`${target.pathname}${target.search}`, this.listenOrigin)
        : target;
    const cookie = this.cookieHeader(publicOrigin);
    const response = await fetch(real, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const gone = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (gone) this.jar(publicOrigin).delete(name);
      else this.jar(publicOrigin).set(name, value);
    }
    return response;
  }

  /** Follow redirects from `url` until an answer that is not one; returns it and every URL visited. */
  async follow(
    url: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ response: Response; visited: string[] }> {
    const visited: string[] = [];
    let next = new URL(url, this.publicOrigin).href;
    let response = await this.request(next, init);
    visited.push(next);
    for (let hops = 0; response.status >= 300 && response.status < 400 && hops < 20; hops++) {
      const location = response.headers.get('location') as string;
      await response.arrayBuffer();
      next = new URL(location, next).href;
      visited.push(next);
      response = await this.request(next);
    }
    return { response, visited };
  }
}

/**
 * Runs Debian's Caddy (`/usr/bin/caddy`, 2.6) in front of the verification service on a free
 * loopback port, from a generated Caddyfile (the one docs/service.md documents), with its admin
 * endpoint off and HOME / XDG folders in a temporary directory.
 *
 * ```ts
 * const caddy = await startCaddy({ servicePort: 9180, upstreamPort: upstream.port });
 * t.after(() => caddy.stop());
 * ```
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProxyProcess } from './proxy-process.ts';

export const CADDY = '/usr/bin/caddy';

export interface CaddyOptions {
  servicePort: number;
  upstreamPort: number;
}

export interface Caddy {
  readonly port: number;
  readonly origin: string;
  readonly caddyfile: string;
  output(): string;
  stop(): Promise<void>;
}

/** The documented site block: client identity headers removed, forward_auth to the service, then the upstream. */
export function caddySiteBlock(options: CaddyOptions & { port: number }): string {
  return `http://127.0.0.1:${options.port} {
  # route keeps this order: delete the client's identity headers, ask the service, proxy.
  route {
    request_header -X-Auth-Request-*
    forward_auth 127.0.0.1:${options.servicePort} {
      uri /auth/forward
      copy_headers X-Auth-Request-User X-Auth-Request-Sub X-Auth-Request-Groups X-Auth-Request-Scope X-Auth-Request-Client-Id X-Auth-Request-Token-Use X-Auth-Request-Email
    }
    reverse_proxy 127.0.0.1:${options.upstreamPort}
  }
}`;
}

/** Start Caddy with the documented site block. */
export async function startCaddy(options: CaddyOptions): Promise<Caddy> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-caddy-'));
  const port = await freePort();
  const caddyfile = `{
  admin off
  auto_https off
}

${caddySiteBlock({ ...options, port })}
`;
  const file = join(dir, 'Caddyfile');
  await writeFile(file, caddyfile);
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  const child = await startProxyProcess(
    'caddy',
    CADDY,
    ['run', '--config', file, '--adapter', 'caddyfile'],
    port,
    env,
  );
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    caddyfile,
    output: child.output,
    stop: async () => {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

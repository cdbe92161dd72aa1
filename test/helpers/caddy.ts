/**
 * Runs Debian's Caddy (`/usr/bin/caddy`, 2.6) in front of the verification service on a free
 * loopback port, from the site block docs/service.md prints (read from it), with its admin
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
import { serviceDocBlock, substitute } from './service-doc.ts';

export const CADDY = '/usr/bin/caddy';

export interface CaddyOptions {
  servicePort: number;
  upstreamPort: number;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** The site block (default: the documented one under "Caddy"). */
  block?: (port: number) => string;
}

export interface Caddy {
  readonly port: number;
  readonly origin: string;
  readonly caddyfile: string;
  output(): string;
  stop(): Promise<void>;
}

/** The documented site block (docs/service.md, "Caddy"), on the test's ports, over plain HTTP. */
export function caddySiteBlock(options: CaddyOptions & { port: number }): string {
  return substitute(serviceDocBlock('Caddy', 'caddyfile'), [
    ['app.example.com {', `http://127.0.0.1:${options.port} {`],
    ['forward_auth 127.0.0.1:9180 {', `forward_auth 127.0.0.1:${options.servicePort} {`],
    ['reverse_proxy 127.0.0.1:8080', `reverse_proxy 127.0.0.1:${options.upstreamPort}`],
  ]);
}

/** Start Caddy with the documented site block. */
export async function startCaddy(options: CaddyOptions): Promise<Caddy> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-caddy-'));
  const port = options.port ?? (await freePort());
  const caddyfile = `{
  admin off
  auto_https off
}

${options.block ? options.block(port) : caddySiteBlock({ ...options, port })}
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

/**
 * Runs Debian's nginx (`/usr/sbin/nginx`, with `auth_request`) in front of the verification
 * service, on a free loopback port, from a generated config in a temporary directory that also
 * holds its pid file, error log and temp paths. The `upstream` and `server` blocks are read from
 * docs/service.md, as printed there.
 *
 * ```ts
 * const nginx = await startNginx({ servicePort: 9180, upstreamPort: upstream.port });
 * t.after(() => nginx.stop());
 * await fetch(`${nginx.origin}/admin`, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProxyProcess } from './proxy-process.ts';
import { serviceDocBlock, substitute } from './service-doc.ts';

export const NGINX = '/usr/sbin/nginx';

export interface NginxOptions {
  servicePort: number;
  upstreamPort: number;
  /**
   * Directives added at the end of the documented `server` block, where the doc tells readers to
   * put them (the `error_page 403` snippets under "A 403 behind nginx").
   */
  inServer?: string;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** The blocks inside `http { }` (default: the documented nginx server block). */
  block?: (port: number) => string;
}

export interface Nginx {
  readonly port: number;
  readonly origin: string;
  /** The generated nginx.conf. */
  readonly config: string;
  /** nginx's error log so far. */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** The documented `upstream` and `server` blocks (docs/service.md, "nginx"), on the test's ports. */
export function nginxServerBlock(options: NginxOptions & { port: number }): string {
  const blocks = substitute(serviceDocBlock('nginx', 'nginx'), [
    ['server 127.0.0.1:9180;', `server 127.0.0.1:${options.servicePort};`],
    ['listen 80;', `listen 127.0.0.1:${options.port};`],
    ['proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${options.upstreamPort};`],
  ]);
  if (options.inServer === undefined) return blocks;
  // The server block is the last one in the doc's text: its closing brace is the last brace.
  const end = blocks.trimEnd().lastIndexOf('}');
  return `${blocks.slice(0, end)}${options.inServer}\n${blocks.slice(end)}`;
}

/** Start nginx with the documented server block; stop it with `stop()`. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-nginx-'));
  // Workers may run as another user (nobody, when started as root): let them into the temp paths.
  await chmod(dir, 0o755);
  const port = options.port ?? (await freePort());
  const config = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${options.block ? options.block(port) : nginxServerBlock({ ...options, port })}
}
`;
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config);
  const process = await startProxyProcess('nginx', NGINX, ['-p', dir, '-c', file, '-g', 'daemon off;'], port);
  const { readFile } = await import('node:fs/promises');
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    config,
    errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
    stop: async () => {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

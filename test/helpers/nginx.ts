/**
 * Runs Debian's nginx (`/usr/sbin/nginx`, with `auth_request`) in front of the verification
 * service, on a free loopback port, from a generated config in a temporary directory that also
 * holds its pid file, error log and temp paths. The `server` block is the one docs/service.md
 * documents.
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

export const NGINX = '/usr/sbin/nginx';

/** Identity headers the service answers with, and the nginx variable each is read into. */
const IDENTITY = ['User', 'Sub', 'Groups', 'Scope', 'Client-Id', 'Token-Use', 'Email'] as const;

export interface NginxOptions {
  servicePort: number;
  upstreamPort: number;
  /** Also pass the claims header on (the service's `claimsHeader: true`). */
  claimsHeader?: boolean;
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

/** The documented `server` block: auth_request to the service, identity headers set from its answer. */
export function nginxServerBlock(options: NginxOptions & { port: number }): string {
  const variable = (name: string) => `$auth_${name.toLowerCase().replaceAll('-', '_')}`;
  const names = options.claimsHeader ? [...IDENTITY, 'Claims'] : IDENTITY;
  return `
    upstream cognito_jwt {
      server 127.0.0.1:${options.servicePort};
      keepalive 16;
    }
    server {
      listen 127.0.0.1:${options.port};

      location = /_cognito_jwt {
        internal;
        proxy_pass http://cognito_jwt/auth/nginx;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Original-Method $request_method;
      }

      location / {
        auth_request /_cognito_jwt;
${names.map((name) => `        auth_request_set ${variable(name)} $upstream_http_x_auth_request_${name.toLowerCase().replaceAll('-', '_')};`).join('\n')}
        # Every identity header is overwritten with the service's answer (an empty one is not sent),
        # so a client's own X-Auth-Request-* never reaches the upstream.
${names.map((name) => `        proxy_set_header X-Auth-Request-${name} ${variable(name)};`).join('\n')}
${options.claimsHeader ? '' : '        proxy_set_header X-Auth-Request-Claims "";\n'}        proxy_pass http://127.0.0.1:${options.upstreamPort};
      }
    }`;
}

/** Start nginx with the documented server block; stop it with `stop()`. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-nginx-'));
  // Workers may run as another user (nobody, when started as root): let them into the temp paths.
  await chmod(dir, 0o755);
  const port = await freePort();
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
${nginxServerBlock({ ...options, port })}
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

/**
 * Debian's tinyproxy as a real forward proxy on loopback: a generated config on a free port, in a
 * temporary directory, stopped (and the directory removed) by `stop()`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProxyProcess } from './proxy-process.ts';

export interface Tinyproxy {
  readonly url: string;
  readonly port: number;
  /** What tinyproxy logged so far (CONNECT lines name the target). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Start tinyproxy on 127.0.0.1. `connectPorts` limits CONNECT to those ports (tinyproxy then
 * answers 403 to others); by default every port is allowed.
 */
export async function startTinyproxy(options: { connectPorts?: readonly number[] } = {}): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyproxy-'));
  const port = await freePort();
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'LogLevel Connect',
    'MaxClients 50',
    'Allow 127.0.0.1',
    'DisableViaHeader Yes',
    ...(options.connectPorts ?? []).map((allowed) => `ConnectPort ${allowed}`),
  ];
  const config = join(dir, 'tinyproxy.conf');
  await writeFile(config, `${lines.join('\n')}\n`);
  const binary =
    ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find((path) => existsSync(path)) ?? 'tinyproxy';
  const process = await startProxyProcess('tinyproxy', binary, ['-d', '-c', config], port);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: process.output,
    async stop() {
      await process.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

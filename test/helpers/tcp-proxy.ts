/**
 * A TCP proxy on loopback that forwards to one port and can be pointed at another, dropping every
 * open connection: what clients of a failover endpoint (ElastiCache's primary endpoint, a Sentinel
 * VIP) see when the primary changes.
 *
 * ```ts
 * const proxy = await startTcpProxy(primary.port);
 * proxy.retarget(replica.port);
 * ```
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Forward new connections to `port`; close every open one. */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: number): Promise<TcpProxy> {
  let current = target;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(current, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    port,
    retarget(next) {
      current = next;
      dropAll();
    },
    close: () =>
      new Promise((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}

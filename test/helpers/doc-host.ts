/**
 * Child-process entry that runs one documentation block: `node --import tsx doc-host.ts <block.ts>`
 * with an IPC channel (test/docs/run.test.ts starts it). It installs doc-sandbox.ts, imports the
 * block, and then, by what the block exports:
 * - a Hono-style app (`export default app`, with `fetch`): serves it on a free loopback port;
 * - a Lambda `handler`: answers `{ type: 'invoke', id, event }` messages with `{ type: 'result', id, value | error }`;
 * - nothing: the block ran top to bottom; the process ends when the block leaves nothing open.
 * Servers report `{ type: 'listening', port, … }`; the end of the import reports `{ type: 'ready', exports }`.
 */
import './doc-sandbox.ts';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';

process.channel?.unref(); // the parent's channel alone must not keep a finished block alive

const file = process.argv[2];
if (file === undefined) throw new Error('usage: doc-host.ts <block.ts>');
const block = (await import(pathToFileURL(file).href)) as Record<string, unknown>;

const app = block.default as { fetch?: (request: Request) => Response | Promise<Response> } | undefined;
if (typeof app?.fetch === 'function') {
  const server = createAdaptorServer({ fetch: app.fetch.bind(app) });
  server.listen(0, '127.0.0.1', () => {
    const { port, address, family } = server.address() as AddressInfo;
    process.send?.({ type: 'listening', requested: 'export default', port, address, family });
  });
}

const handler = block.handler;
if (typeof handler === 'function') {
  process.channel?.ref();
  process.on('message', async (message: { type: string; id: number; event: unknown }) => {
    if (message.type !== 'invoke') return;
    try {
      const value = await handler(message.event);
      process.send?.({ type: 'result', id: message.id, value });
    } catch (error) {
      process.send?.({ type: 'result', id: message.id, error: String((error as Error)?.message ?? error) });
    }
  });
}

process.send?.({ type: 'ready', exports: Object.keys(block).sort() });

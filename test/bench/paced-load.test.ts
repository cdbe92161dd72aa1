import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { answerEnd, pacedLoad, pacedLoadInChild, quantile } from '../../bench/paced-load.ts';

test('quantile takes the nearest rank', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(values, 0.5), 50);
  assert.equal(quantile(values, 0.99), 99);
  assert.equal(quantile(values, 1), 100);
  assert.equal(quantile([7], 0.99), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('answerEnd finds where an answer ends: by Content-Length, by the last chunk, or not yet', () => {
  const sized = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 401';
  assert.deepEqual(answerEnd(sized), { end: sized.indexOf('HTTP/1.1 401'), status: '200' });
  assert.equal(answerEnd('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok'), undefined);
  assert.equal(answerEnd('HTTP/1.1 200 OK\r\nContent-Le'), undefined);
  const chunked =
    'HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n1\r\n}\r\n0\r\n\r\n';
  assert.deepEqual(answerEnd(`${chunked}HTTP`), { end: chunked.length, status: '401' });
  assert.equal(answerEnd(chunked.slice(0, -2)), undefined);
  assert.deepEqual(answerEnd('HTTP/1.1 204 No Content\r\n\r\n'), { end: 27, status: '204' });
});

// The two properties that make the latency figure honest, each with a server that shows it.
test('requests arrive spread over the run, not in one burst per second', async () => {
  const arrivals: number[] = [];
  const server = createServer((_request, response) => {
    arrivals.push(performance.now());
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await pacedLoad({
      port,
      path: '/',
      headers: () => ({}),
      rate: 200,
      durationS: 1,
      connections: 8,
    });
    assert.equal(result.sent, 200);
    assert.equal(result.completed, 200);
    assert.deepEqual(result.statuses, { 200: 200 });
    // A quota spent in a burst puts all 200 in the first few milliseconds; paced, each quarter of
    // the second gets about 50 (the bound leaves room for a slow machine's timer jitter).
    const first = arrivals[0] as number;
    const inFirstQuarter = arrivals.filter((at) => at - first < 250).length;
    assert.ok(inFirstQuarter <= 120, `${inFirstQuarter} of 200 requests in the first 250 ms`);
  } finally {
    server.close();
  }
});

test('a stall counts against every request that was due during it', async () => {
  let stalled = false;
  const waiting: (() => void)[] = [];
  const server = createServer((_request, response) => {
    if (stalled) waiting.push(() => response.end('ok'));
    else response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    // 300 ms into a 1 s run, the server holds every answer for 300 ms: about 30 % of the requests
    // wait, so the 99th percentile is most of the stall, whatever the connection count.
    setTimeout(() => {
      stalled = true;
      setTimeout(() => {
        stalled = false;
        for (const answer of waiting.splice(0)) answer();
      }, 300);
    }, 300);
    const result = await pacedLoad({
      port,
      path: '/',
      headers: () => ({}),
      rate: 100,
      durationS: 1,
      connections: 2,
    });
    assert.equal(result.completed, 100);
    assert.equal(result.errors, 0);
    assert.ok(result.p99Ms >= 150, `p99 ${result.p99Ms} ms`);
    assert.ok(result.p50Ms < result.p99Ms);
  } finally {
    server.close();
  }
});

test('from a process of its own, the load sends the header cycle in order and reports what came back', async () => {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    const token = request.headers.authorization ?? '';
    seen.push(token);
    response.writeHead(token === 'Bearer bad' ? 401 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'paced-child-'));
  try {
    const { port } = server.address() as AddressInfo;
    const result = await pacedLoadInChild(
      {
        port,
        path: '/',
        headerCycle: [
          { authorization: 'Bearer a' },
          { authorization: 'Bearer b' },
          { authorization: 'Bearer bad' },
        ],
        rate: 60,
        durationS: 1,
        connections: 1,
      },
      dir,
    );
    assert.equal(result.sent, 60);
    assert.deepEqual(result.statuses, { 200: 40, 401: 20 });
    assert.deepEqual(seen.slice(0, 4), ['Bearer a', 'Bearer b', 'Bearer bad', 'Bearer a']);
    assert.ok(result.p99Ms > 0);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

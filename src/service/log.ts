/**
 * One JSON line per event on stdout. Decision lines carry what an operator needs to follow a
 * request (contract, method, normalised path, rule, status, code, subject and client) and never a
 * token or a header value.
 */
import { fstatSync } from 'node:fs';
import type { LogLevel } from './config.ts';
import type { Decision } from './decide.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Lines held for stdout are written when the next line would take the batch past its limit, or
 * {@link FLUSH_DELAY_MS} after the first one. To a pipe the limit is 4 KiB, Linux's PIPE_BUF: a
 * write that size or smaller is atomic, so workers sharing stdout never cut into each other's
 * lines. A regular file needs no such care (each write lands whole at the shared offset), and
 * takes 64 KiB at a time.
 */
const PIPE_BATCH_LIMIT = 4096;
const FILE_BATCH_LIMIT = 64 * 1024;
const FLUSH_DELAY_MS = 50;
let batchLimit = 0;
let pending = '';
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let exitHooked = false;

/** Write out the lines held for stdout (when the batch is full, after the delay, and at exit). */
export function flushLog(): void {
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  if (pending === '') return;
  const text = pending;
  pending = '';
  process.stdout.write(text);
}

/**
 * stdout to a file or a pipe is a synchronous write on Linux, and a system call costs some 4 µs
 * here: one per decision line, or even one per turn of the event loop, was a large part of a
 * cache hit's CPU time under load. Lines are held and written together, in batches of whole
 * lines; a line is at most 50 ms late, and lines held at exit are written then.
 */
function writeBatched(line: string): void {
  if (batchLimit === 0) batchLimit = stdoutIsFile() ? FILE_BATCH_LIMIT : PIPE_BATCH_LIMIT;
  if (pending.length + line.length > batchLimit) flushLog();
  pending += line;
  if (flushTimer === undefined) {
    // Unreferenced: held lines never keep the process alive; the exit hook writes them.
    flushTimer = setTimeout(flushLog, FLUSH_DELAY_MS);
    flushTimer.unref();
  }
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushLog);
  }
}

function stdoutIsFile(): boolean {
  try {
    return fstatSync(1).isFile();
  } catch {
    return false;
  }
}

// The time of a line, formatted once per millisecond rather than once per line.
let isoMs = Number.NaN;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** Writes JSON lines at or above a level. */
export interface Logger {
  log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void;
  /** The line for one decision: at `log.allowed` for an allowed request, `log.decisions` for a refusal, `warn` for a 5xx. */
  decision(decision: Decision, durationMs: number, cacheHit: boolean | undefined): void;
}

/**
 * A logger writing to `write` (default: stdout) the lines at or above `level`. Allowed requests
 * are logged at `allowed` (default: `decisions`).
 *
 * ```ts
 * const logger = createLogger({ level: 'info', decisions: 'info' });
 * logger.log('info', 'listening', { port: 9180 });
 * ```
 */
export function createLogger(options: {
  level: LogLevel;
  decisions: LogLevel;
  allowed?: LogLevel;
  write?: (line: string) => void;
}): Logger {
  const write = options.write ?? writeBatched;
  const threshold = RANK[options.level];
  const enabled = (level: LogLevel) => level !== 'silent' && RANK[level] >= threshold;
  const log: Logger['log'] = (level, message, fields = {}) => {
    if (!enabled(level)) return;
    write(`${JSON.stringify({ time: isoNow(), level, msg: message, pid: process.pid, ...fields })}\n`);
  };
  const decisionLevel = options.decisions;
  const allowedLevel = options.allowed ?? decisionLevel;
  return {
    log,
    decision(decision, durationMs, cacheHit) {
      // 5xx answers are worth a warning whatever level decisions are logged at.
      const level =
        decision.status >= 500 ? 'warn' : decision.outcome === 'allow' ? allowedLevel : decisionLevel;
      if (level === 'silent' || !enabled(level)) return;
      const claims = decision.claims as Record<string, unknown> | undefined;
      // The whole line as one literal (no fields object spread into another): the line is written
      // for every request at the default level, so it is built the cheap way.
      const line = {
        time: isoNow(),
        level,
        msg: 'decision',
        pid: process.pid,
        contract: decision.contract,
        method: decision.method,
        path: decision.path,
        route: decision.route,
        status: decision.status,
        outcome: decision.outcome,
        code: decision.code,
        sub: claims?.sub,
        client_id: claims === undefined ? undefined : (claims.client_id ?? claims.aud),
        token_use: claims?.token_use,
        cache: cacheHit === undefined ? undefined : cacheHit ? 'hit' : 'miss',
        ms: Math.round(durationMs * 1000) / 1000,
        detail: decision.detail,
      };
      write(`${JSON.stringify(line)}\n`);
    },
  };
}

/**
 * One JSON line per event on stdout. Decision lines carry what an operator needs to follow a
 * request (contract, method, normalised path, rule, status, code, subject and client) and never a
 * token or a header value.
 */
import type { LogLevel } from './config.ts';
import type { Decision } from './decide.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Writes JSON lines at or above a level. */
export interface Logger {
  log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void;
  /** The line for one decision, at `level` (the config's `log.decisions`). */
  decision(decision: Decision, durationMs: number, cacheHit: boolean | undefined): void;
}

/**
 * A logger writing to `write` (default: stdout) the lines at or above `level`.
 *
 * ```ts
 * const logger = createLogger({ level: 'info', decisions: 'info' });
 * logger.log('info', 'listening', { port: 9180 });
 * ```
 */
export function createLogger(options: {
  level: LogLevel;
  decisions: LogLevel;
  write?: (line: string) => void;
}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const threshold = RANK[options.level];
  const enabled = (level: LogLevel) => level !== 'silent' && RANK[level] >= threshold;
  const log: Logger['log'] = (level, message, fields = {}) => {
    if (!enabled(level)) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, pid: process.pid, ...fields })}\n`,
    );
  };
  const decisionLevel = options.decisions;
  return {
    log,
    decision(decision, durationMs, cacheHit) {
      // 5xx answers are worth a warning whatever level decisions are logged at.
      const level = decision.status >= 500 ? 'warn' : decisionLevel;
      if (level === 'silent' || !enabled(level)) return;
      const claims = decision.claims as Record<string, unknown> | undefined;
      // The whole line as one literal (no fields object spread into another): the line is written
      // for every request at the default level, so it is built the cheap way.
      const line = {
        time: new Date().toISOString(),
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

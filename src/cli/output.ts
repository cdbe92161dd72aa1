import { styleText } from 'node:util';

/** A format `util.styleText` accepts, e.g. `'red'` or `['bold', 'yellow']`. */
export type Style = Parameters<typeof styleText>[0];
type Format = Extract<Style, string>;

/** One output stream of the command, with colour decided for that stream. */
export interface Channel {
  /** Write a line (a newline is added). */
  line(text?: string): void;
  /** Colour `text` if this stream shows colours, else return it unchanged. */
  paint(style: Style, text: string): string;
}

/** Where a command writes: data on `out`, messages (notes, warnings, errors) on `err`. */
export interface Terminal {
  readonly out: Channel;
  readonly err: Channel;
}

/**
 * A channel on a Node stream. Colour is left to `util.styleText` with that stream: since Node
 * 20.18 it is off when the stream is not a TTY or `NO_COLOR`/`NODE_DISABLE_COLORS` is set, and on
 * when `FORCE_COLOR` is set (unless `FORCE_COLOR=0`). Combined styles are applied one at a time,
 * because Node 20 does not run that check for an array of formats.
 *
 * ```ts
 * const err = channel(process.stderr);
 * err.line(err.paint('yellow', 'warning: the token has expired'));
 * ```
 */
export function channel(stream: NodeJS.WritableStream): Channel {
  return {
    line: (text = '') => {
      stream.write(`${text}\n`);
    },
    // One format per call: on Node 20, styleText skips the stream check when given an array of formats.
    paint: (style, text) =>
      (Array.isArray(style) ? style : [style]).reduceRight(
        (painted: string, format: Format) => styleText(format, painted, { stream }),
        text,
      ),
  };
}

/**
 * The process's stdout and stderr as a {@link Terminal}.
 *
 * ```ts
 * const terminal = processTerminal();
 * terminal.out.line(JSON.stringify({ ok: true }));
 * ```
 */
export function processTerminal(): Terminal {
  return { out: channel(process.stdout), err: channel(process.stderr) };
}

/**
 * Left-aligned `label  value` rows, the labels padded to one width (and dimmed where colours show).
 *
 * ```ts
 * rows(terminal.out, [['user pool', 'eu-west-1_AbC123'], ['client', 'app (aud)']]);
 * //   user pool  eu-west-1_AbC123
 * //   client     app (aud)
 * ```
 */
export function rows(channel: Channel, entries: readonly (readonly [string, string])[], indent = '  '): void {
  const width = Math.max(0, ...entries.map(([label]) => label.length));
  for (const [label, value] of entries)
    channel.line(`${indent}${channel.paint('dim', label.padEnd(width))}  ${value}`);
}

// Logging: pino, JSON lines on stderr; readable one-line text when stderr is a terminal.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Where lines go (tests pass their own). Default: stderr. */
  stream?: DestinationStream;
  /** Force text (true) or JSON (false); default: text when stderr is a TTY. */
  pretty?: boolean;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const pretty = opts.pretty ?? (opts.stream === undefined && process.stderr.isTTY === true);
  // Synchronous writes: log lines are rare (never per query), and a line written just
  // before exit (a bind error, "ready" seen by a supervisor) must not be lost.
  const sink = opts.stream ?? pino.destination({ fd: 2, sync: true });
  return pino(
    { level: opts.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pretty ? new TextStream(sink) : sink,
  );
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** JSON line → `time LEVEL msg key=value ...`. */
class TextStream implements DestinationStream {
  constructor(private readonly out: DestinationStream) {}
  write(line: string): void {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.out.write(line);
      return;
    }
    const { time, level, msg, pid: _pid, ...rest } = o;
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const t = typeof time === 'string' ? time.slice(11, 23) : '';
    this.out.write(`${t} ${(LEVELS[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extra ? '  ' + extra : ''}\n`);
  }
}

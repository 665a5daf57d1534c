// Structured, levelled logs (pino) to `<stateDir>/daemon.log`, to stderr when asked, and to every
// connected editor's "Switchyard" channel. Every record passes through the redactor first.

import pino from 'pino';
import { Writable } from 'node:stream';
import type { Redactor } from './redact';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogSink = (level: Level, line: string) => void;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Forwards records at or above info to a listener (an editor connection) until the returned function is called. */
  subscribe(sink: LogSink): () => void;
  flush(): void;
}

export interface LoggerOptions {
  file?: string;
  level?: Level;
  stderr?: boolean;
  redactor: Redactor;
}

export function createLogger(options: LoggerOptions): Logger {
  const sinks = new Set<LogSink>();
  const streams: pino.StreamEntry[] = [];
  const fileStream = options.file ? pino.destination({ dest: options.file, mkdir: true, sync: true }) : undefined;
  if (fileStream) streams.push({ stream: fileStream, level: 'trace' });
  if (options.stderr) streams.push({ stream: process.stderr, level: 'trace' });
  streams.push({
    level: 'info',
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (sinks.size > 0) {
          // The editor's channel stamps time and level itself: send the message and its fields only.
          const { level: number, time: _time, pid: _pid, msg, ...fields } = JSON.parse(chunk.toString()) as Record<string, unknown>;
          const level = pino.levels.labels[number as number] as Level;
          const line = Object.keys(fields).length > 0 ? `${String(msg)} ${JSON.stringify(fields)}` : String(msg);
          for (const sink of sinks) {
            try {
              sink(level, line);
            } catch {
              // A window whose connection closed a moment ago: its line is lost, the caller's log call is not.
            }
          }
        }
        done();
      },
    }),
  });
  const base = pino(
    { level: options.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams),
  );
  const redactor = options.redactor;
  const write = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (fields) base[level](redactor.value(fields) as object, redactor.text(msg));
    else base[level](redactor.text(msg));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    subscribe(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    flush() {
      fileStream?.flushSync();
    },
  };
}

// Sorting the server's stderr lines: its own log records (already mirrored as window/logMessage) versus anything else.

/** How one stderr line is written to the Kimi channel. */
export type StderrLevel = "debug" | "trace" | "error";

const RECORD = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:[,.]\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;

/**
 * kimi-lsp logs to stderr and mirrors INFO and above as window/logMessage, which the client shows
 * already: those stderr copies only appear when tracing. DEBUG records (never mirrored) are debug
 * lines. Anything else (a traceback, a crash before the server could log) is an error.
 */
export function stderrLevel(line: string): StderrLevel {
  const match = RECORD.exec(line);
  if (!match) return "error";
  return match[1] === "DEBUG" ? "debug" : "trace";
}

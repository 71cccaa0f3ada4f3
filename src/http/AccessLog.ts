import { Effect, FiberRef, LogLevel } from "effect"

/** A request URL fit for a log line: the value of `access_token` (SSE clients' credentials) redacted. */
export const redactUrl = (url: string): string => url.replace(/([?&]access_token=)[^&#]*/g, "$1REDACTED")

/**
 * A request's access-log line, as `HttpMiddleware.logger` writes it but with `redactUrl`: at debug level
 * (`LOG_LEVEL=debug` shows them), at error level for a 5xx. The caller's `http` log span times it.
 * A line below the minimum level is dropped before its annotations are built (every request pays that).
 */
export const logResponse = (method: string, url: string, status: number): Effect.Effect<void> => {
  const level = status >= 500 ? LogLevel.Error : LogLevel.Debug
  return Effect.flatMap(FiberRef.get(FiberRef.currentMinimumLogLevel), (minimum) =>
    LogLevel.greaterThan(minimum, level)
      ? Effect.void
      : Effect.logWithLevel(level, "Sent HTTP response").pipe(
        Effect.annotateLogs({ "http.method": method, "http.url": redactUrl(url), "http.status": status })
      ))
}

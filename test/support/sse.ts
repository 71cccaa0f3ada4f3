import { createParser, type EventSourceMessage } from "eventsource-parser"

/** A minimal EventSource over fetch, for tests: collects parsed events and comments. */
export interface SseClient {
  readonly status: number
  readonly events: Array<EventSourceMessage>
  readonly comments: Array<string>
  /** Resolves once at least `count` events arrived (rejects after `timeoutMs`). */
  readonly waitFor: (count: number, timeoutMs?: number) => Promise<Array<EventSourceMessage>>
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>
  readonly close: () => void
}

export const openSse = async (url: string, headers: Record<string, string> = {}): Promise<SseClient> => {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal })
  const events: Array<EventSourceMessage> = []
  const comments: Array<string> = []
  const waiters = new Set<() => void>()
  const parser = createParser({
    onEvent: (event) => {
      events.push(event)
      for (const wake of waiters) wake()
    },
    onComment: (comment) => comments.push(comment)
  })
  let ended: Promise<void> = Promise.resolve()
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    ended = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          parser.feed(value)
        }
      } catch {
        // aborted by close()
      }
    })()
  }
  const waitFor = (count: number, timeoutMs = 10_000) =>
    new Promise<Array<EventSourceMessage>>((resolve, reject) => {
      const check = () => {
        if (events.length >= count) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve(events.slice(0, count))
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`expected ${count} SSE events within ${timeoutMs} ms, got ${events.length}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return { status: response.status, events, comments, waitFor, ended, close: () => controller.abort() }
}

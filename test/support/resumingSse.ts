import { createParser } from "eventsource-parser"

/**
 * An SSE client that behaves like a browser's EventSource: when its stream ends or fails (its server
 * was killed), it reconnects after a short delay, to whichever server `pickUrl` names then, sending
 * `Last-Event-ID` with the last id it received. Every id received is kept, in arrival order.
 */
export interface ResumingSse {
  readonly ids: Array<string>
  readonly reconnects: () => number
  /** How many ids had arrived when each reconnect began (where a gap would sit). */
  readonly reconnectedAt: ReadonlyArray<number>
  /**
   * Settles once a stream is open (its response's headers arrived): the server answers only once the
   * subscription is live, so everything published from then on reaches this client. Without
   * `Last-Event-ID` a first stream starts at the seller's latest notification: a client must wait for
   * this before it counts on receiving what it then causes.
   */
  readonly opened: Promise<void>
  readonly close: () => void
}

export const resumingSse = (pickUrl: () => string, headers: () => Promise<Record<string, string>>, retryMs = 500): ResumingSse => {
  const ids: Array<string> = []
  let reconnects = 0
  const reconnectedAt: Array<number> = []
  let markOpened = () => {}
  const opened = new Promise<void>((resolve) => (markOpened = resolve))
  let closed = false
  let controller: AbortController | undefined
  const loop = async () => {
    for (let attempt = 0; !closed; attempt++) {
      if (attempt > 0) {
        reconnects++
        reconnectedAt.push(ids.length)
        await new Promise((r) => setTimeout(r, retryMs))
        if (closed) return
      }
      controller = new AbortController()
      try {
        const last = ids[ids.length - 1]
        const response = await fetch(pickUrl(), {
          headers: { accept: "text/event-stream", ...(await headers()), ...(last === undefined ? {} : { "last-event-id": last }) },
          signal: controller.signal
        })
        if (!response.ok || response.body === null) continue
        markOpened()
        const parser = createParser({ onEvent: (event) => event.id !== undefined && ids.push(event.id) })
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          parser.feed(value)
        }
      } catch {
        // refused, reset or aborted: reconnect (unless closed)
      }
    }
  }
  void loop()
  return {
    ids,
    reconnects: () => reconnects,
    reconnectedAt,
    opened,
    close: () => {
      closed = true
      controller?.abort()
    }
  }
}

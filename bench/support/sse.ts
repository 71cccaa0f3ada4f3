import { request } from "node:http"

/**
 * An SSE client of one seller: calls `onFrame(id, receivedAt)` for every frame with an id. Returns
 * a function that closes it. Reconnection is not needed here: a dropped stream is reported.
 */
export const openSse = (url: string, onFrame: (id: string, at: number) => void, onError: (e: unknown) => void) => {
  const req = request(url, { headers: { accept: "text/event-stream" } }, (res) => {
    let buffered = ""
    res.setEncoding("utf8")
    res.on("data", (text: string) => {
      const at = performance.now()
      buffered += text
      let end: number
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const frame = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        for (const line of frame.split("\n")) if (line.startsWith("id: ")) onFrame(line.slice(4), at)
      }
    })
    res.on("error", onError)
  })
  req.on("error", onError)
  req.end()
  return () => req.destroy()
}

/** p-th percentile (0..100) of the values, by nearest rank. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

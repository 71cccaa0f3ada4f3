// A seller's live notifications through the browser's own EventSource. EventSource reconnects by
// itself after the stream ends, sending Last-Event-ID, and the server replays what followed that id:
// nothing missed, nothing twice. It gives up on an answer other than 200 (401, 403, a 503 while the
// server restarts); then this module asks the API why, and either stops (the token) or opens a new
// EventSource after a pause, resuming with `?lastEventId=` (a new EventSource cannot set the header).

const eventTypes = ["ProductCreated", "ProductUpdated", "ProductDeleted", "LowStockWarning"]

/**
 * Opens the stream. `onNotification(notification, lastEventId)` for each frame; `onState(state, lastEventId)` with
 * state connecting | live | reconnecting; `onStopped({ kind, reason })` once, kind expired |
 * unauthorized | forbidden. `isExpired()` says whether the token's exp has passed.
 */
export const openStream = ({ base, sellerId, token, lastEventId, isExpired, onNotification, onState, onStopped }) => {
  let source
  let retry
  let failures = 0
  let stopped = false
  let last = lastEventId

  const streamUrl = () => {
    const query = new URLSearchParams({ access_token: token })
    if (last !== null) query.set("lastEventId", last)
    return `${base}/sellers/${encodeURIComponent(sellerId)}/notifications/stream?${query}`
  }

  const stop = () => {
    stopped = true
    clearTimeout(retry)
    source?.close()
  }

  const stopFor = (kind, reason) => {
    stop()
    onStopped({ kind, reason })
  }

  /** Why EventSource gave up: the same credentials on the list route, whose body says why. */
  const diagnose = async () => {
    try {
      const response = await fetch(`${base}/sellers/${encodeURIComponent(sellerId)}/notifications?limit=1`, {
        headers: { authorization: `Bearer ${token}` },
        cache: "no-store"
      })
      if (stopped) return
      if (response.status === 401 || response.status === 403) {
        const reason = (await response.json().catch(() => ({}))).reason ?? ""
        if (response.status === 403) return stopFor("forbidden", reason)
        return stopFor(isExpired() || /expired/.test(reason) ? "expired" : "unauthorized", reason)
      }
    } catch {
      // The server is not answering (restarting): try again below.
    }
    if (stopped) return
    failures += 1
    onState("reconnecting", last)
    retry = setTimeout(connect, Math.min(15_000, 1000 * 2 ** Math.min(failures - 1, 4)))
  }

  const connect = () => {
    if (stopped) return
    onState(failures === 0 && last === lastEventId ? "connecting" : "reconnecting", last)
    source = new EventSource(streamUrl())
    source.onopen = () => {
      failures = 0
      onState("live", last)
    }
    const frame = (event) => {
      if (event.lastEventId !== "") last = event.lastEventId
      let notification
      try {
        notification = JSON.parse(event.data)
      } catch {
        return
      }
      onNotification(notification, last)
    }
    for (const type of eventTypes) source.addEventListener(type, frame)
    source.onerror = () => {
      if (stopped) return
      // The server ends a stream when its token expires: do not let EventSource retry into 401s.
      if (isExpired()) return stopFor("expired", "")
      if (source.readyState === EventSource.CONNECTING) return onState("reconnecting", last)
      source.close()
      diagnose()
    }
  }

  connect()
  return { stop, lastEventId: () => last }
}

// The seller dashboard: a token from the fragment or the form, the seller's stored notifications then
// the live ones (stream.js), and the seller's metrics refreshed every few seconds.
import { createChart } from "./chart.js"
import { createFeed } from "./feed.js"
import { formatMinor, hourlyColumns, windowStart } from "./metrics.js"
import { openStream } from "./stream.js"
import { decodeToken, isExpired, tokenFromHash } from "./token.js"

const historySize = 50
const metricsEveryMillis = 5000
const chartHours = 24

const $ = (id) => document.getElementById(id)
const config = await fetch("/dashboard/config.json", { cache: "no-store" }).then((r) => r.json()).catch(() => ({}))
const apiBase = location.origin
const metricsBase = typeof config.metricsUrl === "string" ? config.metricsUrl : location.origin

const feed = createFeed()
const chart = createChart($("chart"))
/** The seller shown: its token, claims, stream and metrics timer. */
let session = null
let shownSeller = null

const showMessage = (text, kind = "warning") => {
  $("message").textContent = text
  $("message").dataset.kind = kind
  $("message").hidden = text === ""
}

const setConnection = (state, text) => {
  $("connection").dataset.state = state
  $("connection").textContent = text
}

const element = (tag, className, text) => {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

const renderFeed = (fresh = []) => {
  const freshIds = new Set(fresh.map((n) => n.id))
  const items = feed.ordered().map((n) => {
    const li = element("li", freshIds.has(n.id) ? "fresh" : "")
    li.dataset.id = n.id
    li.dataset.severity = n.severity
    const severity = element("span", "severity", n.severity)
    severity.dataset.severity = n.severity
    const time = element("time", "time", new Date(n.occurredAt).toLocaleString())
    time.dateTime = n.occurredAt
    li.append(
      severity,
      element("span", "title", n.title),
      time,
      element("span", "body", n.body),
      element("span", "meta", `${n.eventType} · product ${n.productId} · ${n.id}`)
    )
    return li
  })
  $("feed").replaceChildren(...items)
  $("feed-empty").hidden = items.length > 0
  $("feed-count").textContent = items.length > 0 ? `${items.length} shown, newest first` : ""
}

const authorization = (token) => ({ authorization: `Bearer ${token}` })

/** What the page says when the token no longer opens the seller's data; the form takes a fresh one. */
const stopSession = (current, { kind, reason }) => {
  if (session !== current) return
  current.stream?.stop()
  clearTimeout(current.metricsTimer)
  session = null
  const seller = current.sellerId
  const resume = feed.newestId() === null ? "" : " The feed resumes where it stopped."
  if (kind === "expired") {
    const at = current.claims.exp === undefined ? "" : ` at ${new Date(current.claims.exp * 1000).toLocaleTimeString()}`
    setConnection("expired", "token expired")
    showMessage(`Your token expired${at}. Paste a fresh token for ${seller} (npx product-events token ${seller}) to continue.${resume}`)
  } else if (kind === "forbidden") {
    setConnection("stopped", "not allowed")
    showMessage(`This token does not grant access to seller ${seller} (403${reason ? `: ${reason}` : ""}).`, "error")
  } else {
    setConnection("stopped", "token rejected")
    showMessage(
      `The server rejected this token (401${reason ? `: ${reason}` : ""}). Is it signed with this server's AUTH_JWT_SECRET? ` +
        `Mint one with npx product-events token ${seller}.`,
      "error"
    )
  }
  $("token-form").hidden = false
  $("token-input").focus()
}

/** A 401 or 403 answer ends the session; anything else is the caller's to handle. */
const denied = async (current, response) => {
  if (response.status !== 401 && response.status !== 403) return false
  const reason = (await response.json().catch(() => ({}))).reason ?? ""
  const expired = response.status === 401 && (isExpired(current.claims, Date.now()) || /expired/.test(reason))
  stopSession(current, { kind: response.status === 403 ? "forbidden" : expired ? "expired" : "unauthorized", reason })
  return true
}

const loadHistory = async (current) => {
  try {
    const url = `${apiBase}/sellers/${encodeURIComponent(current.sellerId)}/notifications?limit=${historySize}`
    const response = await fetch(url, { headers: authorization(current.token), cache: "no-store" })
    if (session !== current || (await denied(current, response))) return false
    if (!response.ok) return false
    renderFeed(feed.add((await response.json()).items ?? []))
    return true
  } catch {
    return false
  }
}

const renderTotals = (metrics) => {
  const entry = (name, label, value) => {
    const div = element("div")
    const dd = element("dd", "", value)
    dd.dataset.metric = name
    div.append(element("dt", "", label), dd)
    return div
  }
  const value = Object.entries(metrics.inventoryValue ?? {})
  $("totals").replaceChildren(
    entry("activeProducts", "Active products", String(metrics.activeProducts)),
    entry("totalStockUnits", "Stock units", String(metrics.totalStockUnits)),
    ...(value.length === 0
      ? [entry("inventoryValue", "Inventory value", "—")]
      : value.map(([currency, minor]) => entry(`inventoryValue.${currency}`, `Inventory value (${currency})`, formatMinor(minor, currency)))),
    entry("created", "Created", String(metrics.counts.created)),
    entry("updated", "Updated", String(metrics.counts.updated)),
    entry("deleted", "Deleted", String(metrics.counts.deleted)),
    entry("priceChanges", "Price changes", String(metrics.counts.priceChanges))
  )
}

const refreshMetrics = async (current) => {
  if (session !== current) return
  if (isExpired(current.claims, Date.now())) return stopSession(current, { kind: "expired", reason: "" })
  const from = windowStart(Date.now(), chartHours)
  const url = `${metricsBase}/sellers/${encodeURIComponent(current.sellerId)}/metrics?from=${from}`
  try {
    const response = await fetch(url, { headers: authorization(current.token), cache: "no-store" })
    if (session !== current || (await denied(current, response))) return
    if (response.ok) {
      const metrics = await response.json()
      renderTotals(metrics)
      chart.update(hourlyColumns(metrics.hourly ?? [], from, Date.now()))
      $("metrics-status").textContent = `updated ${new Date().toLocaleTimeString()}`
    } else if (response.status === 404) {
      $("metrics-status").textContent = `no metrics at ${metricsBase}: set DASHBOARD_METRICS_URL to analytics-service's URL`
    } else {
      $("metrics-status").textContent = `metrics unavailable (${response.status}), retrying`
    }
  } catch {
    $("metrics-status").textContent = `metrics unreachable at ${metricsBase}, retrying`
  }
  if (session === current) current.metricsTimer = setTimeout(() => refreshMetrics(current), metricsEveryMillis)
}

const open = async (token) => {
  const claims = decodeToken(token)
  if (session !== null) {
    session.stream?.stop()
    clearTimeout(session.metricsTimer)
    session = null
  }
  if (claims.error !== undefined) {
    setConnection("idle", "not connected")
    $("token-form").hidden = false
    return showMessage(claims.error, "error")
  }
  if (claims.sellerId !== shownSeller) {
    feed.clear()
    renderFeed()
    chart.clear()
    $("totals").replaceChildren()
    shownSeller = claims.sellerId
  }
  const current = { sellerId: claims.sellerId, token, claims, stream: null, metricsTimer: undefined }
  session = current
  $("seller").textContent = `seller ${claims.sellerId}`
  $("main").hidden = false
  $("token-form").hidden = true
  showMessage("")
  if (isExpired(claims, Date.now())) return stopSession(current, { kind: "expired", reason: "" })

  setConnection("connecting", "connecting…")
  refreshMetrics(current)
  const hadHistory = (await loadHistory(current)) && feed.size() > 0
  if (session !== current) return
  let opened = false
  current.stream = openStream({
    base: apiBase,
    sellerId: claims.sellerId,
    token,
    lastEventId: feed.newestId(),
    isExpired: () => isExpired(claims, Date.now()),
    onNotification: (n, lastEventId) => {
      renderFeed(feed.add([n]))
      $("resume").textContent = `Last-Event-ID: ${lastEventId}`
    },
    onState: (state, lastEventId) => {
      const after = lastEventId === null ? "" : ` (resumes after ${lastEventId})`
      setConnection(state, state === "live" ? "live" : state === "connecting" ? "connecting…" : `reconnecting…${after}`)
      $("resume").textContent = lastEventId === null ? "" : `Last-Event-ID: ${lastEventId}`
      // With no history to resume after, the stream starts live: what came meanwhile is in the store.
      if (state === "live" && !opened && !hadHistory) loadHistory(current)
      if (state === "live") opened = true
    },
    onStopped: (why) => stopSession(current, why)
  })
}

const start = () => {
  const token = tokenFromHash(location.hash)
  if (token !== null) return open(token)
  setConnection("idle", "not connected")
  $("token-form").hidden = false
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault()
  const token = $("token-input").value.trim()
  $("token-input").value = ""
  if (token === "") return
  // The fragment holds it, as a link would: a reload keeps the seller, and no server ever sees it.
  if (tokenFromHash(location.hash) === token) open(token)
  else location.hash = `token=${token}`
})
addEventListener("hashchange", start)
start()

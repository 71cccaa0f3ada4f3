import { describe, expect, it } from "@effect/vitest"
import { NotificationApi, ProductEventsApi } from "../../src/domain/HttpApi.js"
import { dashboardRoutes } from "../../src/http/Dashboard.js"
import { routeTable, unmatchedRoute } from "../../src/http/Routes.js"

describe("routeTable", () => {
  const table = routeTable(ProductEventsApi, [{ path: "/docs", method: "GET" }, ...dashboardRoutes])

  it("names a request by its declared route, as OpenAPI writes it, whatever the ids and query", () => {
    expect(table.routeOf("/sellers/s1/metrics?from=2026-11-26")).toBe("/sellers/{sellerId}/metrics")
    expect(table.routeOf("/sellers/another_seller/notifications")).toBe("/sellers/{sellerId}/notifications")
    expect(table.routeOf("/sellers/s1/notifications/stream?access_token=x")).toBe("/sellers/{sellerId}/notifications/stream")
    expect(table.routeOf("/events")).toBe("/events")
    expect(table.routeOf("/dashboard")).toBe("/dashboard")
    expect(table.routeOf("/dashboard/app.js")).toBe("/dashboard/app.js")
  })

  it("gives every path no route has one label", () => {
    for (const path of ["/", "/nope", "/sellers/s1", "/sellers/s1/metrics/extra", "/dashboard/other.js", "/docs/x"]) {
      expect(table.routeOf(path)).toBe(unmatchedRoute)
    }
  })

  it("lists the methods of a path (for 405 and allow), none for an unknown one", () => {
    expect(table.methodsOf("/events")).toEqual(["OPTIONS", "POST"])
    expect(table.methodsOf("/dashboard")).toEqual(["GET", "OPTIONS"])
    expect(table.methodsOf("/nope")).toEqual([])
  })

  it("knows only the routes of the API it serves", () => {
    const notification = routeTable(NotificationApi, dashboardRoutes)
    expect(notification.routeOf("/events")).toBe(unmatchedRoute)
    expect(notification.routeOf("/sellers/s1/notifications")).toBe("/sellers/{sellerId}/notifications")
  })
})

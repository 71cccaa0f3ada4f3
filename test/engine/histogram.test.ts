import { describe, expect, it } from "@effect/vitest"
import * as Prometheus from "prom-client"
import { Histogram } from "../../src/services/Histogram.js"

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

/** A registry's text as a set of samples: name, sorted labels, value (label order is not part of the format). */
const samples = (text: string) =>
  text.split("\n").filter((line) => line.startsWith("latency_seconds")).map((line) => {
    const [, name, labels = "", value] = /^(\w+)(?:\{(.*)\})? (.+)$/.exec(line)!
    return `${name}{${labels.split(",").sort().join(",")}} ${Number(value)}`
  }).sort()

describe("Histogram (the consumer engine's latency histogram)", () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const ours = new Prometheus.Registry()
    const theirs = new Prometheus.Registry()
    const histogram = new Histogram({ name: "latency_seconds", help: "h", labelNames: ["group"], buckets, registers: [ours] })
    const reference = new Prometheus.Histogram({ name: "latency_seconds", help: "h", labelNames: ["group"], buckets, registers: [theirs] })
    const observations: ReadonlyArray<[string, number]> = [
      ["a", 0], ["a", 0.005], ["a", 0.0051], ["a", 0.25], ["a", 7], ["a", 300], ["a", 301], ["b", 0.5], ["b", 1e6]
    ]
    const series = histogram.labels({ group: "a" })
    for (const [group, value] of observations) {
      if (group === "a") series.observe(value)
      else histogram.labels({ group }).observe(value)
      reference.observe({ group }, value)
    }
    expect(samples(await ours.metrics())).toEqual(samples(await theirs.metrics()))
    expect(samples(await ours.metrics())).toContain("latency_seconds_bucket{group=\"a\",le=\"0.005\"} 2")
  })

  it("ignores a value that is not a finite number, where prom-client would throw", () => {
    const histogram = new Histogram({ name: "x_seconds", help: "h", labelNames: ["group"], buckets, registers: [] })
    const series = histogram.labels({ group: "a" })
    series.observe(Number.NaN)
    series.observe(Number.POSITIVE_INFINITY)
    expect(series.count).toBe(0)
  })
})

// The hourly counts as a uPlot bar chart, the counts of an hour side by side (uPlot is loaded before
// the modules, as a global).
import { groupedBars } from "./metrics.js"

const series = [
  { label: "created", stroke: "#1a7f37" },
  { label: "updated", stroke: "#0969da" },
  { label: "deleted", stroke: "#cf222e" },
  { label: "price changes", stroke: "#bf8700" }
]

export const createChart = (element) => {
  let plot = null
  const width = () => Math.max(280, element.clientWidth)
  const options = () => ({
    width: width(),
    height: 220,
    // The buckets are UTC hours: the axis says UTC too, whatever the browser's time zone.
    tzDate: (seconds) => globalThis.uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    scales: {
      // To the end of the last hour: its bars stand inside it.
      x: { time: true, range: (_u, min, max) => [min, max + 3600 / series.length] },
      y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] }
    },
    series: [{}, ...series.map((s) => ({ ...s, fill: s.stroke, width: 0, paths: globalThis.uPlot.paths.bars({ size: [0.85, 40], align: 1 }), points: { show: false } }))],
    axes: [{}, { label: "events", size: 50 }]
  })
  addEventListener("resize", () => plot?.setSize({ width: width(), height: 220 }))
  return {
    /** Shows `columns` (x: each hour in epoch seconds, then one column per series). */
    update(columns) {
      const bars = groupedBars(columns)
      if (plot === null) plot = new globalThis.uPlot(options(), bars, element)
      else plot.setData(bars)
    },
    clear() {
      plot?.destroy()
      plot = null
    }
  }
}

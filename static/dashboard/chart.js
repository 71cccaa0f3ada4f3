// The hourly counts as a uPlot chart (uPlot is loaded before the modules, as a global).

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
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
    series: [{}, ...series.map((s) => ({ ...s, width: 2, points: { show: true, size: 5 } }))],
    axes: [{}, { label: "events", size: 50 }]
  })
  addEventListener("resize", () => plot?.setSize({ width: width(), height: 220 }))
  return {
    /** Shows `columns` (x in epoch seconds, then one column per series). */
    update(columns) {
      if (plot === null) plot = new globalThis.uPlot(options(), columns, element)
      else plot.setData(columns)
    },
    clear() {
      plot?.destroy()
      plot = null
    }
  }
}

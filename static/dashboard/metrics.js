// The seller's metrics as the page shows them: money from minor units, and the hourly buckets as a
// chart's columns with the empty hours filled in.

const hourMillis = 3_600_000

/** `YYYY-MM-DDTHH` (UTC) of a time, as the metrics' hourly buckets are named. */
export const hourOf = (millis) => new Date(millis).toISOString().slice(0, 13)

/** The first hour of a window of `hours` hours ending with the hour of `nowMillis`. */
export const windowStart = (nowMillis, hours) => hourOf(nowMillis - (hours - 1) * hourMillis)

const fractionDigits = (currency) => {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    return 2
  }
}

/** An exact amount in minor units (a decimal string, possibly past 2^53) as `1,234.56 EUR`. */
export const formatMinor = (decimal, currency) => {
  const negative = decimal.startsWith("-")
  const digits = fractionDigits(currency)
  const minor = (negative ? decimal.slice(1) : decimal).padStart(digits + 1, "0")
  const whole = (digits === 0 ? minor : minor.slice(0, -digits)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return `${negative ? "-" : ""}${whole}${digits === 0 ? "" : `.${minor.slice(-digits)}`} ${currency}`
}

export const countNames = ["created", "updated", "deleted", "priceChanges"]

/**
 * uPlot's data for the hourly buckets from `fromHour` on: x in epoch seconds, one column per count,
 * zero for an hour without events, up to the later of now and the newest bucket.
 */
export const hourlyColumns = (hourly, fromHour, nowMillis) => {
  const start = Date.parse(`${fromHour}:00:00Z`)
  const byHour = new Map(hourly.map((bucket) => [bucket.hour, bucket]))
  const newest = hourly.reduce((latest, bucket) => Math.max(latest, Date.parse(`${bucket.hour}:00:00Z`)), 0)
  const end = Math.max(Date.parse(`${hourOf(nowMillis)}:00:00Z`), newest)
  const columns = [[], ...countNames.map(() => [])]
  for (let t = start; t <= end; t += hourMillis) {
    const bucket = byHour.get(hourOf(t))
    columns[0].push(t / 1000)
    countNames.forEach((name, i) => columns[i + 1].push(bucket?.[name] ?? 0))
  }
  return columns
}

/**
 * The columns as grouped bars: each hour split in one slot per count (x = the hour + i quarter-hours
 * for 4 counts), a count's value in its own slot and null in the others, so that a bar chart draws
 * the counts of an hour side by side.
 */
export const groupedBars = (columns) => {
  const [hours, ...counts] = columns
  const slot = 3600 / counts.length
  const grouped = [[], ...counts.map(() => [])]
  hours.forEach((hour, h) => {
    counts.forEach((_, i) => {
      grouped[0].push(hour + i * slot)
      counts.forEach((values, j) => grouped[j + 1].push(i === j ? values[h] : null))
    })
  })
  return grouped
}

/**
 * Archive object keys: `events/date=YYYY-MM-DD/hour=HH/<topic>-p<partition>-<first>-<last>.ndjson.gz`,
 * derived from the source partition and the offset range of the events inside, so that an object
 * is only ever written again with the same key and the same bytes.
 */
const pad = (offset: number) => String(offset).padStart(20, "0")

/** `YYYY-MM-DDTHH` (UTC) → the date/hour folder. */
export const hourFolder = (hour: string): string => `events/date=${hour.slice(0, 10)}/hour=${hour.slice(11, 13)}/`

export const partitionPrefix = (topic: string, partition: number, hour: string): string =>
  `${hourFolder(hour)}${topic}-p${String(partition).padStart(3, "0")}-`

export const archiveKey = (topic: string, partition: number, hour: string, first: number, last: number): string =>
  `${partitionPrefix(topic, partition, hour)}${pad(first)}-${pad(last)}.ndjson.gz`

/** The offset range an archive key covers, or undefined for a key of another shape. */
export const rangeOfKey = (key: string): readonly [number, number] | undefined => {
  const match = /-(\d{20})-(\d{20})\.ndjson\.gz$/.exec(key)
  return match ? [Number(match[1]), Number(match[2])] : undefined
}

const encoder = new TextEncoder()

const isAscii = (key: string) => {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 127) return false
  return true
}

/**
 * Kafka's murmur2 (Java `Utils.murmur2`, kafkajs `DefaultPartitioner`): a signed 32-bit hash of the bytes.
 * An ASCII string is its own UTF-8 (sellerIds are): hashed from its characters, without encoding it.
 */
export const murmur2 = (key: string | Uint8Array): number => {
  const data = typeof key === "string" && !isAscii(key) ? encoder.encode(key) : key
  const byte = typeof data === "string" ? (i: number) => data.charCodeAt(i) : (i: number) => data[i]!
  const length = data.length
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = byte(i4) | (byte(i4 + 1) << 8) | (byte(i4 + 2) << 16) | (byte(i4 + 3) << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const tail = length & ~3
  const rest = length & 3
  if (rest === 3) h ^= byte(tail + 2) << 16
  if (rest >= 2) h ^= byte(tail + 1) << 8
  if (rest >= 1) h = Math.imul(h ^ byte(tail), m)
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a key. */
export const partitionFor = (key: string, partitions: number): number => (murmur2(key) & 0x7fffffff) % partitions

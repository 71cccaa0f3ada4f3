const encoder = new TextEncoder()

/** Kafka's murmur2 (Java `Utils.murmur2`, kafkajs `DefaultPartitioner`): a signed 32-bit hash of the bytes. */
export const murmur2 = (key: string | Uint8Array): number => {
  const data = typeof key === "string" ? encoder.encode(key) : key
  const length = data.length
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  const tail = length & ~3
  const rest = length & 3
  if (rest === 3) h ^= data[tail + 2]! << 16
  if (rest >= 2) h ^= data[tail + 1]! << 8
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, m)
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** The partition Kafka's default partitioner picks for a key. */
export const partitionFor = (key: string, partitions: number): number => (murmur2(key) & 0x7fffffff) % partitions

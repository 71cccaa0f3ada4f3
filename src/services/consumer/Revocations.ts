import type { LogRecord, TopicPartition } from "../EventLog.js"
import { Watermarks } from "./Watermark.js"
import type { Work } from "./Work.js"

/**
 * Which partitions were taken from this member, and when. A record of a revoked partition is no
 * longer processed; a chunk that waited on a full lane across a revocation drops the rest of that
 * partition's records (the partition may have been assigned again meanwhile: the log delivers them again).
 */
export class Revocations {
  private readonly revoked = new Set<string>()
  /** Revocations so far, and the count at each partition's last revocation. */
  private count = 0
  private readonly revokedAt = new Map<string, number>()

  revoke(partitions: ReadonlyArray<TopicPartition>): void {
    this.count++
    for (const tp of partitions) {
      const key = Watermarks.key(tp.topic, tp.partition)
      this.revoked.add(key)
      this.revokedAt.set(key, this.count)
    }
  }

  assign(partitions: ReadonlyArray<TopicPartition>): void {
    for (const tp of partitions) this.revoked.delete(Watermarks.key(tp.topic, tp.partition))
  }

  /** A point in time, for `staleSince`. */
  get now(): number {
    return this.count
  }

  /** Whether a record read at `since` must not be tracked: its partition is revoked, or was revoked after `since`. */
  staleSince(record: LogRecord, since: number): boolean {
    if (this.revoked.size === 0 && this.count === since) return false
    const key = Watermarks.key(record.topic, record.partition)
    return this.revoked.has(key) || (this.revokedAt.get(key) ?? 0) > since
  }

  /** Whether a tracked record's partition was revoked: it is then dropped, neither done nor dead-lettered. */
  isRevoked(work: Work): boolean {
    return work.mark.revoked || this.isRevokedRecord(work.record)
  }

  isRevokedRecord(record: LogRecord): boolean {
    return this.revoked.size > 0 && this.revoked.has(Watermarks.key(record.topic, record.partition))
  }
}

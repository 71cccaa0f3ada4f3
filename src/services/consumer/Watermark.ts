import type { CommitOffset, LogRecord } from "../EventLog.js"

/**
 * Which offsets of one partition are finished. Records are tracked in arrival (offset) order;
 * the committable offset is the first unfinished one, so a commit never passes an unfinished
 * record however the later ones finish. Holds only the records between that point and the newest.
 */
export class PartitionWatermark {
  /** Tracked offsets, ascending, and whether each is finished: `seen[head]` is the first unfinished one. */
  private readonly seen: Array<number> = []
  private readonly finished: Array<boolean> = []
  private head = 0
  private newest = -1
  /** The last offset committed for this partition by this member. */
  committed = -1
  /** Revoked from this member: its records are no longer processed, and its finishes are ignored. */
  revoked = false

  constructor(readonly topic: string, readonly partition: number) {}

  track(offset: number): void {
    this.seen.push(offset)
    this.finished.push(false)
    this.newest = offset
  }

  finish(offset: number): void {
    if (this.revoked) return
    const index = this.indexOf(offset)
    if (index < 0) return
    this.finished[index] = true
    while (this.head < this.seen.length && this.finished[this.head]) this.head++
    if (this.head > 1024 && this.head * 2 > this.seen.length) {
      this.seen.splice(0, this.head)
      this.finished.splice(0, this.head)
      this.head = 0
    }
  }

  /** Where an unfinished offset is tracked, -1 if it is not: offsets are usually consecutive, else searched. */
  private indexOf(offset: number): number {
    const { head, seen } = this
    if (head >= seen.length || offset < seen[head]! || offset > this.newest) return -1
    const guess = head + (offset - seen[head]!)
    if (guess < seen.length && seen[guess] === offset) return guess
    let low = head
    let high = seen.length - 1
    while (low <= high) {
      const mid = (low + high) >>> 1
      const at = seen[mid]!
      if (at === offset) return mid
      if (at < offset) low = mid + 1
      else high = mid - 1
    }
    return -1
  }

  /** Next offset to read once everything before it is finished; undefined before the first record. */
  get committable(): number | undefined {
    if (this.head < this.seen.length) return this.seen[this.head]
    return this.newest >= 0 ? this.newest + 1 : undefined
  }

  /** Records tracked and not yet finished. */
  get unfinished(): number {
    return this.seen.length - this.head
  }
}

/** The watermarks of every partition this member is consuming. */
export class Watermarks {
  private readonly partitions = new Map<string, PartitionWatermark>()
  /** The partition of the previous record: records come in runs of one partition. */
  private last: PartitionWatermark | undefined

  static key(topic: string, partition: number): string {
    return `${topic}/${partition}`
  }

  track(record: LogRecord): PartitionWatermark {
    let mark = this.last
    if (mark === undefined || mark.partition !== record.partition || mark.topic !== record.topic || mark.revoked) {
      const key = Watermarks.key(record.topic, record.partition)
      mark = this.partitions.get(key)
      if (mark === undefined) {
        mark = new PartitionWatermark(record.topic, record.partition)
        this.partitions.set(key, mark)
      }
      this.last = mark
    }
    mark.track(record.offset)
    return mark
  }

  get(topic: string, partition: number): PartitionWatermark | undefined {
    return this.partitions.get(Watermarks.key(topic, partition))
  }

  forget(mark: PartitionWatermark): void {
    this.partitions.delete(Watermarks.key(mark.topic, mark.partition))
    if (this.last === mark) this.last = undefined
  }

  all(): ReadonlyArray<PartitionWatermark> {
    return [...this.partitions.values()]
  }

  /** Offsets that moved since the last commit, for the given partitions (default: all). */
  due(marks: ReadonlyArray<PartitionWatermark> = this.all()): ReadonlyArray<CommitOffset> {
    return marks.flatMap((mark) => {
      const offset = mark.committable
      return offset !== undefined && offset > mark.committed
        ? [{ topic: mark.topic, partition: mark.partition, offset }]
        : []
    })
  }

  markCommitted(offsets: ReadonlyArray<CommitOffset>): void {
    for (const { offset, partition, topic } of offsets) {
      const mark = this.get(topic, partition)
      if (mark !== undefined && offset > mark.committed) mark.committed = offset
    }
  }
}

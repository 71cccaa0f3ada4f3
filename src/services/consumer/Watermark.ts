import type { CommitOffset, LogRecord } from "../EventLog.js"

/**
 * Which offsets of one partition are finished. Records are tracked in arrival (offset) order;
 * the committable offset is the first unfinished one, so a commit never passes an unfinished
 * record however the later ones finish. Holds only the records between that point and the newest.
 */
export class PartitionWatermark {
  private readonly seen: Array<number> = []
  private head = 0
  private readonly finishedAhead = new Set<number>()
  private newest = -1
  /** The last offset committed for this partition by this member. */
  committed = -1
  /** Revoked from this member: its records are no longer processed, and its finishes are ignored. */
  revoked = false

  constructor(readonly topic: string, readonly partition: number) {}

  track(offset: number): void {
    this.seen.push(offset)
    this.newest = offset
  }

  finish(offset: number): void {
    if (this.revoked) return
    if (this.head < this.seen.length && this.seen[this.head] === offset) {
      // In order, the common case: no set to go through unless later records finished first.
      this.head++
      if (this.finishedAhead.size > 0) this.advance()
    } else if (this.head < this.seen.length && offset > this.seen[this.head]! && offset <= this.newest) {
      this.finishedAhead.add(offset)
    }
    if (this.head > 1024 && this.head * 2 > this.seen.length) {
      this.seen.splice(0, this.head)
      this.head = 0
    }
  }

  private advance(): void {
    while (this.head < this.seen.length && this.finishedAhead.delete(this.seen[this.head]!)) this.head++
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

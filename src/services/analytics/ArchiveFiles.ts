import { Duration } from "effect"
import type { Entry, PartitionUnit } from "./Entry.js"
import { type ArchiveSettings, limitsOf } from "./Settings.js"

/** A file being filled: one partition, one hour of event time, a contiguous run of its offsets. */
export interface ArchiveFile extends PartitionUnit {
  readonly hour: string
  readonly entries: Array<Entry>
  readonly openedAt: number
  /** Its own roll limits: small for the first files after the partition was assigned (see `limitsOf`). */
  readonly maxBytes: number
  readonly maxAgeMillis: number
  lastAppendAt: number
  bytes: number
}

/**
 * The archive's buffer and roll policy, without I/O: one open file per partition, rolled at a size,
 * an age, when idle, and when the hour of event time changes. The first files after a partition was
 * assigned roll small and young, the limits doubling up to the full ones (`limitsOf`). Each method
 * returns the files it rolled, for the caller to upload; a file is rolled once.
 */
export class ArchiveFiles {
  private readonly open = new Map<number, ArchiveFile>()
  /** Files opened per partition since it was assigned to this member: their roll limits ramp up. */
  private readonly opened = new Map<number, number>()

  constructor(private readonly settings: ArchiveSettings) {}

  append(entry: Entry, hour: string, now: number): Array<ArchiveFile> {
    const { partition } = entry.record
    const rolled: Array<ArchiveFile> = []
    let file = this.open.get(partition)
    if (file !== undefined && file.hour !== hour) {
      rolled.push(file)
      this.open.delete(partition)
      file = undefined
    }
    if (file === undefined) {
      const n = this.opened.get(partition) ?? 0
      this.opened.set(partition, n + 1)
      file = { partition, hour, entries: [], openedAt: now, ...limitsOf(this.settings, n), lastAppendAt: now, bytes: 0, dropped: false }
      this.open.set(partition, file)
    }
    file.entries.push(entry)
    file.bytes += entry.line.length + 1
    file.lastAppendAt = now
    if (file.bytes >= file.maxBytes) {
      rolled.push(file)
      this.open.delete(partition)
    }
    return rolled
  }

  /** The open files past their age or idle limit. */
  due(now: number): Array<ArchiveFile> {
    const idle = Duration.toMillis(this.settings.idleAfter)
    const rolled = [...this.open.values()].filter((file) => now - file.openedAt >= file.maxAgeMillis || now - file.lastAppendAt >= idle)
    for (const file of rolled) this.open.delete(file.partition)
    return rolled
  }

  /** Every open file (at shutdown). */
  rollAll(): Array<ArchiveFile> {
    const rolled = [...this.open.values()]
    this.open.clear()
    return rolled
  }

  /** Forgets a revoked partition: its open file is dropped, and its ramp starts again if it comes back. */
  drop(partition: number): void {
    const file = this.open.get(partition)
    if (file !== undefined) file.dropped = true
    this.open.delete(partition)
    this.opened.delete(partition)
  }
}

import type { Effect } from "effect"
import type { StoredNotification } from "../../domain/Notification.js"

/** A notification's SSE frame, encoded once and shared by every subscriber of its seller. */
export interface Frame {
  readonly seq: number
  readonly notification: StoredNotification
  readonly bytes: Uint8Array
}

/** Where one subscriber's frames go: an HTTP response, or a queue read as a stream. */
export interface Sink {
  readonly write: (frame: Frame) => void
  readonly heartbeat: () => void
  /** Its buffer is over the limit: the client does not read as fast as frames come. */
  readonly full: () => boolean
  /** Succeeds once the sink takes more (or is gone): backpressure for replays from the store. */
  readonly whenWritable: Effect.Effect<void>
  /** Ends the response; the client resumes with Last-Event-ID. */
  readonly end: () => void
}

/**
 * One subscriber's delivery state: plain code, called for every subscriber of a seller per frame.
 *
 * While `live`, a frame that follows the last one sent (`seq` = sent + 1) is written at once, one
 * already sent is dropped. Otherwise (a replay or catch-up from the store is running in the
 * subscriber's own fiber, or a gap was just seen) frames wait in `pending` for that fiber.
 * On overflow (the sink's buffer or `pending` over its bound) the response ends: the client
 * reconnects with the last id it received and the store replays the rest, so nothing is lost,
 * nothing repeated, and the others never wait for it.
 */
export class Subscriber {
  sent = 0
  live = false
  ended = false
  pending: Array<Frame> = []
  private wake: (() => void) | undefined = undefined

  constructor(readonly sellerId: string, readonly sink: Sink, private readonly maxPending: number) {}

  offer(frame: Frame): void {
    if (this.ended || frame.seq <= this.sent) return
    if (this.live && frame.seq === this.sent + 1) {
      if (this.sink.full()) return this.end()
      this.sink.write(frame)
      this.sent = frame.seq
      return
    }
    if (this.pending.length >= this.maxPending) return this.end()
    this.pending.push(frame)
    if (this.live) {
      // A gap: the missing frames are read back from the store by the subscriber's fiber.
      this.live = false
      this.signal()
    }
  }

  /** Written by the subscriber's own fiber (replay, catch-up), after `whenWritable`. */
  writeOwn(frame: Frame): void {
    if (this.ended || frame.seq <= this.sent) return
    this.sink.write(frame)
    this.sent = frame.seq
  }

  heartbeat(): void {
    if (this.ended) return
    if (this.sink.full()) return this.end()
    this.sink.heartbeat()
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.pending = []
    this.sink.end()
    this.signal()
  }

  /** Registers the fiber's wake-up; calls it at once when there is work already. */
  await(wake: () => void): void {
    if (this.ended || !this.live) wake()
    else this.wake = wake
  }

  cancelAwait(): void {
    this.wake = undefined
  }

  private signal(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

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
  /** Writes the token-expired comment, then ends the response. */
  readonly expire: () => void
}

/**
 * One subscriber's delivery state: plain code, called for every subscriber of a seller per frame.
 *
 * While `live`, a frame that follows the last one sent (`seq` = sent + 1) is written at once, one
 * already sent is dropped. Otherwise (a replay or catch-up from the store is running, or a gap was
 * just seen and `catchUp` starts one) frames wait in `pending` for it.
 * On overflow (the sink's buffer or `pending` over its bound) the response ends: the client
 * reconnects with the last id it received and the store replays the rest, so nothing is lost,
 * nothing repeated, and the others never wait for it.
 */
export class Subscriber {
  sent = 0
  live = false
  ended = false
  pending: Array<Frame> = []
  /** When its token expires, in epoch seconds (a JWT's `exp`); the hub ends it then. */
  expiresAt: number | undefined = undefined
  /** Heartbeat ticks (two per `SSE_HEARTBEAT`) since something was last written: at two, a heartbeat is due. */
  private quietTicks = 0

  constructor(
    readonly sellerId: string,
    readonly sink: Sink,
    private readonly maxPending: number,
    /** Starts a fiber that reads the missing frames from the store, then writes `pending` (then live). */
    private readonly catchUp: (subscriber: Subscriber) => void
  ) {}

  offer(frame: Frame): void {
    if (this.ended || frame.seq <= this.sent) return
    if (this.live && frame.seq === this.sent + 1) {
      if (this.sink.full()) return this.end()
      this.sink.write(frame)
      this.sent = frame.seq
      this.quietTicks = 0
      return
    }
    if (this.pending.length >= this.maxPending) return this.end()
    this.pending.push(frame)
    if (this.live) {
      this.live = false
      this.catchUp(this)
    }
  }

  /** Written by the replay or catch-up fiber, after `whenWritable`. */
  writeOwn(frame: Frame): void {
    if (this.ended || frame.seq <= this.sent) return
    this.sink.write(frame)
    this.sent = frame.seq
    this.quietTicks = 0
  }

  /**
   * The heartbeat tick, twice per `SSE_HEARTBEAT`: a comment once the stream was written nothing for two
   * ticks. So an idle stream gets one every `SSE_HEARTBEAT` and no stream is silent longer than that,
   * while a stream that frames keep busy (and open through proxies) gets none: the tick costs no burst of
   * writes over every open stream in the middle of a round of frames.
   */
  heartbeat(): void {
    if (this.ended || ++this.quietTicks < 2) return
    this.quietTicks = 0
    if (this.sink.full()) return this.end()
    this.sink.heartbeat()
  }

  end(): void {
    this.close(() => this.sink.end())
  }

  /** Its token expired: a last comment saying so, and the end. */
  expire(): void {
    this.close(() => this.sink.expire())
  }

  private close(finish: () => void): void {
    if (this.ended) return
    this.ended = true
    this.pending = []
    finish()
  }
}

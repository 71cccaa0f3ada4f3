/**
 * The seqs a notification store drew ahead from sellers' counters and has not handed out yet: plain
 * state, no I/O (`NotificationStoreDynamo` draws). Every seq handed out for a seller exceeds every one
 * handed out before, by this store and, once `forget` ran, by any other: what could break that is not
 * kept, only leaving gaps.
 */
export class SeqBlocks {
  /** Per seller: `next` up to `last`, not handed out yet; the longest kept first in the map's order. */
  private readonly reserved = new Map<string, { next: number; readonly last: number }>()
  /** Forgets so far: a draw in flight across one keeps nothing of its block. */
  private forgotten = 0

  constructor(private readonly blockSize: number, private readonly maxSellers: number) {}

  /** Up to `count` of the seller's reserved seqs, in order. */
  take(sellerId: string, count: number): Array<number> {
    const seqs: Array<number> = []
    const block = this.reserved.get(sellerId)
    if (block === undefined) return seqs
    while (seqs.length < count && block.next <= block.last) seqs.push(block.next++)
    if (block.next > block.last) this.reserved.delete(sellerId)
    return seqs
  }

  /** A draw for `missing` more seqs: `size` of them, a block at least, to draw from the counter. */
  startDraw(missing: number): Draw {
    return { missing, size: Math.max(missing, this.blockSize), forgotten: this.forgotten }
  }

  /**
   * The draw came back with its last seq: its first `missing` seqs are handed out, the rest kept unless a
   * forget ran meanwhile or a later block (of a concurrent draw of the seller) is kept already.
   */
  finishDraw(sellerId: string, draw: Draw, last: number): Array<number> {
    const first = last - draw.size + 1
    const seqs = Array.from({ length: draw.missing }, (_, i) => first + i)
    const kept = this.reserved.get(sellerId)
    if (draw.forgotten !== this.forgotten || (kept !== undefined && kept.last > last) || draw.missing === draw.size) return seqs
    this.reserved.delete(sellerId)
    this.reserved.set(sellerId, { next: first + draw.missing, last })
    if (this.reserved.size > this.maxSellers) this.reserved.delete(this.reserved.keys().next().value!)
    return seqs
  }

  /** Drops every reserved seq (the consumer's partitions moved): the next ones are drawn anew. */
  forget(): void {
    this.forgotten++
    this.reserved.clear()
  }
}

export interface Draw {
  readonly missing: number
  readonly size: number
  readonly forgotten: number
}

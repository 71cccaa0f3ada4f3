import { describe, expect, it } from "@effect/vitest"
import { SeqBlocks } from "../../src/layers/SeqBlocks.js"

/** The seq blocks' rules, draw by draw: what a counter answer leads to, in every order the answers can come. */
describe("SeqBlocks", () => {
  it("hands out a draw's first seqs, keeps the rest of the block and takes from it before drawing again", () => {
    const blocks = new SeqBlocks(32, 100)
    const draw = blocks.startDraw(2)
    expect(draw.size).toBe(32)
    expect(blocks.finishDraw("s", draw, 32)).toEqual([1, 2])
    expect(blocks.take("s", 3)).toEqual([3, 4, 5])
    expect(blocks.take("s", 40)).toHaveLength(27)
    expect(blocks.take("s", 1)).toEqual([])
  })

  it("draws at least what is missing: a chunk larger than a block", () => {
    const blocks = new SeqBlocks(4, 100)
    const draw = blocks.startDraw(10)
    expect(blocks.finishDraw("s", draw, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(blocks.take("s", 1)).toEqual([])
  })

  it("of two overlapping draws of one seller, keeps the later block whichever answer comes last", () => {
    for (const order of [["early", "late"], ["late", "early"]] as const) {
      const blocks = new SeqBlocks(32, 100)
      const draws = { early: blocks.startDraw(1), late: blocks.startDraw(1) }
      const lasts = { early: 32, late: 64 }
      const handed = order.flatMap((name) => blocks.finishDraw("s", draws[name], lasts[name]))
      const next = blocks.take("s", 1)
      expect(next).toEqual([34])
      expect(next[0]).toBeGreaterThan(Math.max(...handed))
    }
  })

  it("keeps nothing of a draw that was in flight across a forget, nor anything from before it", () => {
    const blocks = new SeqBlocks(32, 100)
    expect(blocks.finishDraw("a", blocks.startDraw(1), 32)).toEqual([1])
    const inFlight = blocks.startDraw(1)
    blocks.forget()
    expect(blocks.take("a", 1)).toEqual([])
    expect(blocks.finishDraw("b", inFlight, 32)).toEqual([1])
    expect(blocks.take("b", 1)).toEqual([])
  })

  it("keeps the blocks of at most maxSellers sellers, dropping the longest kept", () => {
    const blocks = new SeqBlocks(8, 2)
    for (const seller of ["a", "b", "c"]) blocks.finishDraw(seller, blocks.startDraw(1), 8)
    expect(blocks.take("a", 1)).toEqual([])
    expect(blocks.take("b", 1)).toEqual([2])
    expect(blocks.take("c", 1)).toEqual([2])
  })
})

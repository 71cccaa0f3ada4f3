/**
 * Key-ordered parallelism with bounded resources: a key (sellerId) always maps to the same one
 * of a fixed number of lanes. FNV-1a rather than Kafka's murmur2, so that lanes do not correlate
 * with partitions (murmur2 % 64 and murmur2 % 12 would share their low bits).
 */
export const laneOf = (key: string | null, lanes: number): number => {
  let hash = 0x811c9dc5
  const k = key ?? ""
  for (let i = 0; i < k.length; i++) {
    hash ^= k.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % lanes
}

/** Live counters of an engine, for tests and diagnostics. */
export class EngineStats {
  /** Lane fibers currently running (created on first use, at most `lanes`). */
  liveLanes = 0
  peakLiveLanes = 0
  /** Parked-seller fibers currently running (at most `maxParkedPerLane` per lane). */
  liveParked = 0
  peakLiveParked = 0
  /** Lanes plus parked fibers, at their peak: at most lanes × (1 + maxParkedPerLane). */
  peakLiveFibers = 0
  /** Records handed to lanes and not yet finished (queued, in hand, or parked). */
  inFlight = 0
  peakInFlight = 0

  laneStarted(): void {
    this.liveLanes++
    this.peakLiveLanes = Math.max(this.peakLiveLanes, this.liveLanes)
    this.peakLiveFibers = Math.max(this.peakLiveFibers, this.liveLanes + this.liveParked)
  }
  laneStopped(): void {
    this.liveLanes--
  }
  parkedStarted(): void {
    this.liveParked++
    this.peakLiveParked = Math.max(this.peakLiveParked, this.liveParked)
    this.peakLiveFibers = Math.max(this.peakLiveFibers, this.liveLanes + this.liveParked)
  }
  parkedStopped(): void {
    this.liveParked--
  }
  dispatched(): void {
    this.inFlight++
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight)
  }
  finished(): void {
    this.inFlight--
  }
  /** Records a lane held when it was interrupted: no longer in flight (they stay uncommitted). */
  abandoned(count: number): void {
    this.inFlight -= count
  }
}

// The notifications shown: de-duplicated by id (the eventId), newest first by `seq` (the order the
// service consumed them), bounded. History, live frames and replays after a reconnect all go through `add`.

export const createFeed = (capacity = 200) => {
  const byId = new Map()
  const ordered = () => [...byId.values()].sort((a, b) => b.seq - a.seq)
  return {
    /** Adds the notifications not seen before; returns those that were new. */
    add(notifications) {
      const added = []
      for (const n of notifications) {
        if (typeof n !== "object" || n === null || typeof n.id !== "string" || typeof n.seq !== "number") continue
        if (byId.has(n.id)) continue
        byId.set(n.id, n)
        added.push(n)
      }
      if (byId.size > capacity) for (const old of ordered().slice(capacity)) byId.delete(old.id)
      return added.filter((n) => byId.has(n.id))
    },
    ordered,
    /** The id of the newest notification, the one a stream resumes after; null when empty. */
    newestId: () => ordered()[0]?.id ?? null,
    size: () => byId.size,
    clear: () => byId.clear()
  }
}

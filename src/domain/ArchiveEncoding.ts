import { constants, gunzipSync, gzipSync } from "node:zlib"

/**
 * An archive file: NDJSON (one JSON document per line, each line ended by "\n"), gzipped.
 * Deterministic: the same lines give the same bytes (fixed level, and Node's gzip header carries
 * no mtime or file name), so a re-upload after a crash writes an identical object.
 */
export const archiveGzipLevel = 6

export const isArchiveLine = (line: string): boolean => !line.includes("\n") && !line.includes("\r")

export const ndjson = (lines: ReadonlyArray<string>): string => lines.map((line) => `${line}\n`).join("")

export const encodeArchive = (lines: ReadonlyArray<string>): Uint8Array => {
  for (const line of lines) {
    if (!isArchiveLine(line)) throw new Error("an NDJSON line must not contain a line break")
  }
  const gz = gzipSync(ndjson(lines), { level: archiveGzipLevel, strategy: constants.Z_DEFAULT_STRATEGY })
  // A copy that owns its ArrayBuffer: small Buffers share Node's pool, which must not be transferred.
  return new Uint8Array(gz)
}

export const decodeArchive = (bytes: Uint8Array): ReadonlyArray<string> => {
  const text = gunzipSync(bytes).toString("utf8")
  return text === "" ? [] : text.slice(0, -1).split("\n")
}

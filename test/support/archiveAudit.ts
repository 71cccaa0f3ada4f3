import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3"
import { decodeArchive } from "../../src/domain/ArchiveEncoding.js"
import type { ProductEvent } from "../../src/domain/ProductEvent.js"
import { liveEnv } from "./servers.js"

/**
 * The archive as an outside reader sees it: every object of a bucket, decoded. `audit` counts the
 * accepted lifecycle events missing from it, those in more than one object, and lines of no accepted event.
 */
export const readArchive = async (bucket: string, env = liveEnv()) => {
  const client = new S3Client({
    region: env.AWS_REGION,
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED"
  })
  try {
    const keys: Array<string> = []
    let token: string | undefined
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "events/", ContinuationToken: token }))
      for (const o of page.Contents ?? []) keys.push(o.Key!)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token !== undefined)
    const objects = await Promise.all(keys.map(async (key) => {
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const lines = decodeArchive(await body.Body!.transformToByteArray())
      return { key, eventIds: lines.map((l) => (JSON.parse(l) as { eventId: string }).eventId) }
    }))
    return objects
  } finally {
    client.destroy()
  }
}

export interface ArchiveAudit {
  readonly objects: number
  readonly missing: number
  readonly duplicated: number
  readonly unexpected: number
}

export const auditArchive = async (bucket: string, accepted: Iterable<ProductEvent>): Promise<ArchiveAudit> => {
  const objects = await readArchive(bucket)
  const seen = new Map<string, number>()
  for (const o of objects) for (const id of o.eventIds) seen.set(id, (seen.get(id) ?? 0) + 1)
  const lifecycle = [...accepted].filter((e) => e.eventType !== "LowStockWarning").map((e) => e.eventId)
  const wanted = new Set(lifecycle)
  return {
    objects: objects.length,
    missing: lifecycle.filter((id) => !seen.has(id)).length,
    duplicated: [...seen.values()].filter((n) => n > 1).length,
    unexpected: [...seen.keys()].filter((id) => !wanted.has(id)).length
  }
}

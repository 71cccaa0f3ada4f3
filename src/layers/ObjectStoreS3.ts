import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client
} from "@aws-sdk/client-s3"
import { Config, Effect, Layer, Option } from "effect"
import { errorName } from "../services/InfraError.js"
import { compareKeyBytes } from "../services/KeyOrder.js"
import { type ObjectSummary, ObjectStore, ObjectStoreError, type PutOptions } from "../services/ObjectStore.js"

/** ObjectStore on S3 (client-s3, path-style so that local servers such as s3rver work). The bucket is created when missing. */

export interface Options {
  readonly bucket: string
  /** e.g. http://127.0.0.1:4569 for s3rver; AWS when absent. */
  readonly endpoint?: string
  readonly region: string
  /** The SDK's default provider chain (env AWS_ACCESS_KEY_ID, ...) when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
}


export const make = (options: Options) =>
  Effect.gen(function*() {
    const { bucket } = options
    const client = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new S3Client({
          region: options.region,
          forcePathStyle: true,
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
          ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
          // Local S3 servers do not speak the newer default checksum trailers.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
          maxAttempts: 3
        })
      ),
      (client) => Effect.sync(() => client.destroy())
    )
    const send = <A>(operation: string, run: (signal: AbortSignal) => Promise<A>) =>
      Effect.tryPromise({ try: run, catch: (cause) => new ObjectStoreError({ operation, cause }) })

    const headBucket = send("ping", (abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }))

    yield* headBucket.pipe(
      Effect.catchIf(
        (error) => ["NotFound", "NoSuchBucket"].includes(errorName(error.cause) ?? ""),
        () =>
          send("provision", (abortSignal) => client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal })).pipe(
            Effect.catchIf(
              (error) => ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(errorName(error.cause) ?? ""),
              () => Effect.void
            ),
            Effect.tap(() => Effect.logInfo(`created bucket ${bucket}`))
          )
      ),
      Effect.withSpan("ObjectStore.provision")
    )

    const put = Effect.fn("ObjectStore.put")((key: string, body: Uint8Array, putOptions: PutOptions = {}) =>
      send("put", (abortSignal) =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: body.byteLength,
            ...(putOptions.contentType === undefined ? {} : { ContentType: putOptions.contentType }),
            ...(putOptions.contentEncoding === undefined ? {} : { ContentEncoding: putOptions.contentEncoding })
          }),
          { abortSignal }
        )).pipe(Effect.asVoid)
    )

    const get = Effect.fn("ObjectStore.get")((key: string) =>
      send("get", async (abortSignal) => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal })
        return out.Body === undefined ? new Uint8Array(0) : await out.Body.transformToByteArray()
      }).pipe(
        Effect.map(Option.some),
        Effect.catchIf((error) => ["NoSuchKey", "NotFound"].includes(errorName(error.cause) ?? ""), () => Effect.succeedNone)
      )
    )

    const list = Effect.fn("ObjectStore.list")((prefix: string) =>
      send("list", async (abortSignal) => {
        const found: Array<ObjectSummary> = []
        for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix }, { abortSignal })) {
          for (const object of page.Contents ?? []) {
            if (object.Key !== undefined) found.push({ key: object.Key, size: object.Size ?? 0 })
          }
        }
        return found.sort((a, b) => compareKeyBytes(a.key, b.key))
      })
    )

    return ObjectStore.of({ put, get, list, ping: headBucket.pipe(Effect.asVoid, Effect.withSpan("ObjectStore.ping")) })
  })

export const layer = (options: Options): Layer.Layer<ObjectStore, ObjectStoreError> => Layer.scoped(ObjectStore, make(options))

/** From env: S3_BUCKET (default product-events-archive), S3_ENDPOINT, AWS_REGION (default us-east-1). */
export const layerConfig = Layer.unwrapEffect(
  Effect.map(
    Config.all({
      bucket: Config.string("S3_BUCKET").pipe(Config.withDefault("product-events-archive")),
      endpoint: Config.option(Config.string("S3_ENDPOINT")),
      region: Config.string("AWS_REGION").pipe(Config.withDefault("us-east-1"))
    }),
    ({ bucket, endpoint, region }) =>
      layer({ bucket, region, ...Option.match(endpoint, { onNone: () => ({}), onSome: (endpoint) => ({ endpoint }) }) })
  )
)

// S3 API for local runs and tests: @20minutes/s3rver on loopback, objects under the given directory.
// Any access key is accepted (signatures are not checked): it is a loopback-only test server.
// Usage: node infra/s3rver.cjs <port> <directory>
"use strict"
const S3rver = require("@20minutes/s3rver")
const AWSAccount = require("@20minutes/s3rver/lib/models/account")

const [port = "4569", directory = ".data/s3"] = process.argv.slice(2)
const knownAccount = AWSAccount.registry.get.bind(AWSAccount.registry)
AWSAccount.registry.get = (accessKeyId) => knownAccount(accessKeyId) ?? AWSAccount.DUMMY_ACCOUNT

new S3rver({ address: "127.0.0.1", port: Number(port), directory, silent: true, allowMismatchedSignatures: true })
  .run()
  .then(({ address, port }) => console.log(`s3rver listening at http://${address}:${port} (${directory})`))
  .catch((error) => {
    console.error(error)
    process.exit(1)
  })
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0))

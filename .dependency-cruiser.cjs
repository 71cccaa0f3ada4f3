/**
 * The import rules of src/ (see README, "Architecture"), checked by test/architecture.test.ts and by
 * `npx depcruise src`. Folders stand on floors; a file imports its own folder or floors below it,
 * never a floor above nor a neighbour on its own floor.
 */
const floors = [
  ["programs"],
  ["cli"],
  ["app"],
  ["http", "layers"],
  ["services"],
  ["contracts", "workers"],
  ["domain"]
]

const upOrSideways = floors.flatMap((floor, index) =>
  floor.map((folder) => {
    const notBelow = floors.slice(0, index + 1).flat().filter((other) => other !== folder)
    return {
      name: `${folder}-imports-down`,
      comment: `src/${folder}/ imports its own folder or ${floors.slice(index + 1).flat().join(", ") || "nothing else of src"}, never ${notBelow.join(", ")}`,
      severity: "error",
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${notBelow.join("|")})/` }
    }
  })
)

module.exports = {
  forbidden: [
    ...upOrSideways,
    {
      name: "domain-stands-alone",
      comment: "src/domain/ imports nothing of the project outside src/domain/",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { pathNot: "^src/domain/|node_modules", dependencyTypesNot: ["core"] }
    },
    {
      name: "resolvable",
      comment:
        "every import resolves to a file (a rule cannot judge an import it cannot place); the worker shim " +
        "imports the compiled worker or tsx's loader, whichever the run has",
      severity: "error",
      from: { pathNot: "^src/workers/analytics-worker\\.mjs$" },
      to: { couldNotResolve: true }
    },
    {
      name: "engine-internals",
      comment: "src/services/consumer/ is the consumer engine's inside: only ConsumerEngine.ts and the folder itself import it",
      severity: "error",
      from: { pathNot: "^src/services/(consumer/|ConsumerEngine\\.ts$)" },
      to: { path: "^src/services/consumer/" }
    },
    {
      name: "no-circular",
      comment: "no files that import each other in a loop",
      severity: "error",
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" }
  }
}

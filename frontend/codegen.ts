// Types for every document the app sends, generated from the server's SDL (schema.graphql, written
// by `pytake sdl`; tests/test_sdl.py fails when it differs from the server). The documents come from
// src/api/operations.ts through scripts/persisted-operations.mjs, which names each after its constant.
const config = {
  overwrite: true,
  schema: "schema.graphql",
  documents: "src/api/documents.generated.graphql",
  generates: {
    "src/api/graphql.generated.ts": {
      plugins: ["typescript-operations"], // generates the enums and inputs the documents use
      config: {
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        scalars: { DateTime: "string", JSON: "Record<string, unknown>", ID: "string" },
        skipTypename: false,
        nonOptionalTypename: true,
        namingConvention: { typeNames: "change-case-all#pascalCase", enumValues: "keep" },
      },
    },
  },
};
export default config;

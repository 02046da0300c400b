// @minitask/codegen — CRD OpenAPI v3 schemas (and the apiserver's OpenAPI v3 documents of built-in
// group/versions) → typed TypeScript models, clients, listers and informers.
export { type Crd, type CrdVersion, readCrd } from "./crd.ts";
export { CodegenError, formatJsonPath, isCodegenError, type JsonPath, type Location } from "./errors.ts";
export { type Biome, findBiome, formatWithBiome } from "./format.ts";
export {
  type GeneratedFile,
  type GeneratedKind,
  type GenerateOptions,
  type GenerateResult,
  generate,
  IMPORT_EXTENSIONS,
  type ImportExtension,
  isGeneratedText,
} from "./generate.ts";
export {
  displayPath,
  expandInputs,
  type InputDocument,
  parseManifests,
  type ReadOptions,
  readManifestFile,
} from "./load.ts";
export {
  isOpenApiDocument,
  type OpenApiGroupVersion,
  type OpenApiResource,
  readOpenApi,
} from "./openapi.ts";
export { apply, type Plan, plan } from "./write.ts";

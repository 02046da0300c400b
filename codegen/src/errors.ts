// Errors of the generator: each names the input file and, when it is about a value inside a document,
// the JSON path of that value, so the CLI can print it as one line.

/** A JSON path as segments: property names and array indexes. */
export type JsonPath = readonly (string | number)[];

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `$.spec.versions[0].schema.openAPIV3Schema.properties["x.y"]`. */
export function formatJsonPath(path: JsonPath): string {
  let out = "$";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (SIMPLE_KEY.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Where in the input a problem is. */
export interface Location {
  /** The input as shown to users (a path relative to the working directory, or `cluster:NAME`). */
  readonly source: string;
  /** 1-based document number in a multi-document file; omitted for single-document inputs. */
  readonly document?: number | undefined;
}

/** `crds/a.yaml` or `crds/a.yaml (document 2)`. */
export function formatLocation(location: Location): string {
  return `${location.source}${location.document !== undefined ? ` (document ${location.document})` : ""}`;
}

/** A CRD that cannot be generated: invalid YAML, not a CRD, or a schema construct the generator cannot express. */
export class CodegenError extends Error {
  override readonly name = "CodegenError";
  readonly source: string;
  readonly document: number | undefined;
  /** JSON path inside the document, when the problem is about one value. */
  readonly path: string | undefined;
  readonly detail: string;

  constructor(location: Location, path: JsonPath | string | undefined, detail: string) {
    const where = formatLocation(location);
    const p = path === undefined ? undefined : typeof path === "string" ? path : formatJsonPath(path);
    super(`${where}: ${p !== undefined ? `${p}: ` : ""}${detail}`);
    this.source = location.source;
    this.document = location.document;
    this.path = p;
    this.detail = detail;
  }
}

export function isCodegenError(err: unknown): err is CodegenError {
  return err instanceof CodegenError;
}

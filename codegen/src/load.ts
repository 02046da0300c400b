// Reads CRD manifests: YAML or JSON files, possibly with several documents, possibly `List`s.
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { LineCounter, parseAllDocuments, type ScalarTag } from "yaml";
import { CodegenError, type JsonPath } from "./errors.ts";

/** One manifest object read from an input, with where it came from. */
export interface InputDocument {
  /** The input as shown to users and in file headers (a relative path, or `cluster:NAME`). */
  readonly source: string;
  /** 1-based document number when the file holds several documents. */
  readonly document: number | undefined;
  /** JSON path of `value` inside its document (non-empty for items of a `List`). */
  readonly basePath: JsonPath;
  readonly value: unknown;
}

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];

/** Display form of a path: relative to `cwd`, with `/` separators. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return (rel === "" ? "." : rel).split(sep).join("/");
}

/**
 * Expands inputs into manifest files: a directory contributes every `.yaml`/`.yml`/`.json` file directly
 * inside it (sorted by name); a file is taken as is.
 */
export async function expandInputs(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const st = await stat(input).catch((err: unknown) => {
      throw new CodegenError({ source: displayPath(input) }, undefined, `cannot read: ${errorText(err)}`);
    });
    if (st.isDirectory()) {
      const names = (await readdir(input))
        .filter((n) => MANIFEST_EXTENSIONS.some((ext) => n.endsWith(ext)))
        .sort(compareStrings);
      for (const n of names) files.push(join(input, n));
    } else {
      files.push(input);
    }
  }
  return [...new Set(files)];
}

export interface ReadOptions {
  /** Whether a file that is not YAML because it is a template (Helm, Go) is an error; default false. */
  readonly strict?: boolean;
  /** Told about each input skipped (one line, naming it and why). */
  readonly onIgnored?: (line: string) => void;
}

/** Go template actions (`{{ .Values.x }}`, `{{- if … }}`): what Helm charts' templates are made of. */
const TEMPLATE_ACTION = /\{\{-?\s*[^}]*\}\}/;

/**
 * Reads and parses one manifest file. Unless `strict`, a file that does not parse as YAML and holds
 * template actions (a Helm template, say) is skipped, and `onIgnored` told.
 */
export async function readManifestFile(
  file: string,
  source: string = displayPath(file),
  options: ReadOptions = {},
): Promise<InputDocument[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CodegenError({ source }, undefined, `cannot read: ${errorText(err)}`);
  }
  try {
    return parseManifests(text, source);
  } catch (err) {
    if (options.strict !== true && err instanceof CodegenError && TEMPLATE_ACTION.test(text)) {
      options.onIgnored?.(`${source}: a template ({{ … }}), not YAML, skipped (${err.detail})`);
      return [];
    }
    throw err;
  }
}

/**
 * The booleans of YAML 1.1 that kubectl still reads as booleans (its YAML decoder resolves `y`, `yes`,
 * `on`, `n`, `no`, `off` in their lower, capitalised and upper case forms), on top of the YAML 1.2 core
 * schema. Everything else is core: no sexagesimal numbers (`12:30` is a string), no 1.1 float forms
 * (`E164`, `e2`, `.`, `-.` are strings), no timestamps.
 */
const KUBECTL_BOOL: ScalarTag = {
  identify: (v) => typeof v === "boolean",
  default: true,
  tag: "tag:yaml.org,2002:bool",
  test: /^(?:[Yy]|[Yy]es|YES|[Nn]|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF)$/,
  resolve: (s) => /^(?:y|yes|on)$/i.test(s),
};

/**
 * Parses YAML (as kubectl does: the YAML 1.2 core schema, plus the YAML 1.1 booleans and merge keys kubectl
 * accepts) or JSON text holding one or more documents. Empty documents are skipped; a `List` (or `…List`
 * kind with `items`) contributes its items.
 */
export function parseManifests(text: string, source: string): InputDocument[] {
  if (text.trimStart().startsWith("{")) {
    // JSON (what `kubectl get -o json` writes) parses much faster as JSON; YAML reports errors better.
    try {
      return documents([JSON.parse(text)], source);
    } catch {
      // not JSON after all: parse it as YAML below
    }
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: "1.2",
    schema: "core",
    customTags: [KUBECTL_BOOL],
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  if (!Array.isArray(docs)) return []; // an empty stream
  const values = docs.map((doc, i) => {
    const document = docs.length > 1 ? i + 1 : undefined;
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = lines.linePos(err.pos[0]);
      const detail = `invalid YAML at line ${pos.line}, column ${pos.col}: ${firstLine(err.message)}`;
      throw new CodegenError({ source, document }, undefined, detail);
    }
    try {
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (e) {
      throw new CodegenError({ source, document }, undefined, `invalid YAML: ${firstLine(errorText(e))}`);
    }
  });
  return documents(values, source);
}

/** Documents from parsed values: empty ones skipped, `List`s expanded into their items. */
function documents(values: readonly unknown[], source: string): InputDocument[] {
  const out: InputDocument[] = [];
  values.forEach((value, i) => {
    const document = values.length > 1 ? i + 1 : undefined;
    if (value === null || value === undefined) return;
    if (
      isRecord(value) &&
      typeof value.kind === "string" &&
      value.kind.endsWith("List") &&
      Array.isArray(value.items)
    ) {
      value.items.forEach((item, j) => {
        out.push({ source, document, basePath: ["items", j], value: item });
      });
      return;
    }
    out.push({ source, document, basePath: [], value });
  });
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Code-unit order: stable across locales. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function firstLine(s: string): string {
  return (s.split("\n")[0] ?? "").trim();
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && code.length > 0 ? `${code}: ${firstLine(err.message)}` : firstLine(err.message);
  }
  return String(err);
}

// Printing: TypeScript text exactly as the repository's formatter (Biome: 2 spaces, 120 columns, double
// quotes, trailing commas) would write it, so generated files need no formatting pass.
import type { Decl, InterfaceDecl, ModuleId, TsType } from "./model.ts";
import { propertyKey } from "./names.ts";

export const LINE_WIDTH = 120;

/** Maps an imported type to its local name (imports may be renamed to avoid clashes). */
export type Resolver = (name: string, module: ModuleId) => string;

const identity: Resolver = (name) => name;

export function renderType(t: TsType, resolve: Resolver = identity): string {
  switch (t.k) {
    case "keyword":
      return t.name;
    case "literal":
      return t.value === null ? "null" : typeof t.value === "string" ? JSON.stringify(t.value) : String(t.value);
    case "ref":
      return t.module === undefined ? t.name : resolve(t.name, t.module);
    case "array": {
      const inner = renderType(t.of, resolve);
      return t.of.k === "union" ? `(${inner})[]` : `${inner}[]`;
    }
    case "record":
      return `Record<string, ${renderType(t.of, resolve)}>`;
    case "union":
      return t.of.map((m) => renderType(m, resolve)).join(" | ");
  }
}

/** `  key?: Type;` */
export function propertyLine(key: string, optional: boolean, type: TsType, resolve: Resolver = identity): string {
  return `  ${propertyKey(key)}${optional ? "?" : ""}: ${renderType(type, resolve)};`;
}

/** Escapes text for a `/** … *\/` comment: no comment terminator, no accidental TSDoc tags. */
export function escapeDoc(line: string): string {
  return line.replace(/\*\//g, "*\\/").replace(/(^|\s)@(?=[A-Za-z])/g, "$1\\@");
}

/** A TSDoc comment; lines starting with `@` are tags written by the generator and are kept as is. */
export function renderDoc(lines: readonly string[], indent = ""): string {
  const body = lines.map((l) => (l.startsWith("@") ? l.replace(/\*\//g, "*\\/") : escapeDoc(l)));
  if (body.length === 0) return "";
  const first = body[0] as string;
  if (body.length === 1 && `${indent}/** ${first} */`.length <= LINE_WIDTH && !first.startsWith("@")) {
    return `${indent}/** ${first} */\n`;
  }
  return `${indent}/**\n${body.map((l) => (l === "" ? `${indent} *\n` : `${indent} * ${l}\n`)).join("")}${indent} */\n`;
}

export function renderDecl(d: Decl, resolve: Resolver = identity): string {
  return d.k === "interface" ? renderInterface(d, resolve) : renderAlias(d.name, d.doc, d.type, resolve);
}

function renderInterface(d: InterfaceDecl, resolve: Resolver): string {
  let out = renderDoc(d.doc);
  out += interfaceHead(
    d.name,
    d.extends.map((e) => renderType(e, resolve)),
  );
  for (const p of d.props) {
    out += renderDoc(p.doc, "  ");
    out += `${propertyLine(p.key, p.optional, p.type, resolve)}\n`;
  }
  if (d.index !== undefined) out += `  [key: string]: ${renderType(d.index, resolve)};\n`;
  return `${out}}\n`;
}

/** `export interface Name extends A, B {` — broken over lines when too long. */
export function interfaceHead(name: string, ext: readonly string[]): string {
  const oneLine = `export interface ${name}${ext.length > 0 ? ` extends ${ext.join(", ")}` : ""} {`;
  if (oneLine.length <= LINE_WIDTH || ext.length === 0) return `${oneLine}\n`;
  const [first, ...rest] = ext;
  return `export interface ${name}\n  extends ${first}${rest.map((e) => `,\n    ${e}`).join("")} {\n`;
}

export function renderAlias(name: string, doc: readonly string[], t: TsType, resolve: Resolver = identity): string {
  const head = `export type ${name} =`;
  const oneLine = `${head} ${renderType(t, resolve)};`;
  let body: string;
  if (oneLine.length <= LINE_WIDTH) body = oneLine;
  else if (t.k === "union") body = `${head}\n${t.of.map((m) => `  | ${renderType(m, resolve)}`).join("\n")};`;
  else if (t.k === "record") body = `export type ${name} = Record<\n  string,\n  ${renderType(t.of, resolve)}\n>;`;
  else body = oneLine;
  return `${renderDoc(doc)}${body}\n`;
}

/**
 * `export function name(params): Result {` — parameters on their own lines when too long. `params` are
 * rendered parameter texts.
 */
export function functionHead(prefix: string, name: string, params: readonly string[], result: string): string {
  const oneLine = `${prefix} ${name}(${params.join(", ")}): ${result} {`;
  if (oneLine.length <= LINE_WIDTH) return `${oneLine}\n`;
  return `${prefix} ${name}(\n${params.map((p) => `  ${p},\n`).join("")}): ${result} {\n`;
}

/** A method signature in an interface body, broken like `functionHead` when too long. */
export function methodSignature(name: string, params: readonly string[], result: string): string {
  const oneLine = `  ${name}(${params.join(", ")}): ${result};`;
  if (oneLine.length <= LINE_WIDTH) return `${oneLine}\n`;
  return `  ${name}(\n${params.map((p) => `    ${p},\n`).join("")}  ): ${result};\n`;
}

/**
 * The natural sort order of the formatter's import organizer (`A < a < a9 < a10 < B < b`): case-insensitive
 * with digit runs compared as numbers, then by code unit.
 */
export function compareNames(a: string, b: string): number {
  const ta = a.toLowerCase().match(/\d+|\D/g) ?? [];
  const tb = b.toLowerCase().match(/\d+|\D/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i] as string;
    const y = tb[i] as string;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One imported (or re-exported) name. */
export interface Specifier {
  readonly name: string;
  readonly alias?: string | undefined;
  readonly typeOnly: boolean;
}

/** `import { … } from "m";` / `export type { … } from "m";` with sorted names, broken when too long. */
export function renderImport(keyword: "import" | "export", from: string, specs: readonly Specifier[]): string {
  const sorted = [...specs].sort((x, y) => compareNames(x.alias ?? x.name, y.alias ?? y.name));
  const allTypes = sorted.every((s) => s.typeOnly);
  const text = (s: Specifier) =>
    `${!allTypes && s.typeOnly ? "type " : ""}${s.name}${s.alias !== undefined ? ` as ${s.alias}` : ""}`;
  const head = `${keyword}${allTypes ? " type" : ""} {`;
  const oneLine = `${head} ${sorted.map(text).join(", ")} } from ${JSON.stringify(from)};`;
  if (oneLine.length <= LINE_WIDTH) return `${oneLine}\n`;
  return `${head}\n${sorted.map((s) => `  ${text(s)},\n`).join("")}} from ${JSON.stringify(from)};\n`;
}

/**
 * Order of import sources: packages first, then relative paths (farther first, as `../` sorts before
 * `./`), each by name.
 */
export function compareSources(a: string, b: string): number {
  const ra = a.startsWith(".");
  const rb = b.startsWith(".");
  if (ra !== rb) return ra ? 1 : -1;
  return compareNames(a, b);
}

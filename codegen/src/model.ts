// The intermediate form between schemas and TypeScript text: type expressions and declarations.

/** Modules generated code imports from (besides its own group/version folder). */
export type FixedModuleId = "client" | "informers" | "meta" | "runtime" | "builtin-runtime";

/**
 * A module generated code imports types from: a fixed one, or `pkg:<dir>`, the `types` module of another
 * generated package (OpenAPI inputs: `pkg:core/v1` is `<out>/core/v1/types.ts`).
 */
export type ModuleId = FixedModuleId | `pkg:${string}`;

export type TsType =
  | { readonly k: "keyword"; readonly name: "string" | "number" | "boolean" | "unknown" | "null" | "never" }
  | { readonly k: "literal"; readonly value: string | number | boolean | null }
  /** A declared type; `module` when it is imported (e.g. the shared `Condition`). */
  | { readonly k: "ref"; readonly name: string; readonly module?: ModuleId }
  | { readonly k: "array"; readonly of: TsType }
  | { readonly k: "record"; readonly of: TsType }
  | { readonly k: "union"; readonly of: readonly TsType[] };

export interface PropertyDecl {
  readonly key: string;
  readonly optional: boolean;
  readonly type: TsType;
  readonly doc: readonly string[];
}

export interface InterfaceDecl {
  readonly k: "interface";
  readonly name: string;
  doc: string[];
  readonly extends: TsType[];
  readonly props: PropertyDecl[];
  /** Type of an index signature `[key: string]: T`, when unknown fields are kept. */
  index: TsType | undefined;
}

export interface AliasDecl {
  readonly k: "alias";
  readonly name: string;
  readonly doc: readonly string[];
  readonly type: TsType;
}

export type Decl = InterfaceDecl | AliasDecl;

export const T = {
  string: { k: "keyword", name: "string" },
  number: { k: "keyword", name: "number" },
  boolean: { k: "keyword", name: "boolean" },
  unknown: { k: "keyword", name: "unknown" },
  null: { k: "keyword", name: "null" },
  never: { k: "keyword", name: "never" },
} as const satisfies Record<string, TsType>;

export function ref(name: string, module?: ModuleId): TsType {
  return module === undefined ? { k: "ref", name } : { k: "ref", name, module };
}

/** A union without duplicates; a single member stands for itself; `unknown` absorbs everything. */
export function union(members: readonly TsType[]): TsType {
  const flat: TsType[] = [];
  const seen = new Set<string>();
  for (const m of members) {
    for (const x of m.k === "union" ? m.of : [m]) {
      if (x.k === "keyword" && x.name === "unknown") return T.unknown;
      const key = JSON.stringify(x);
      if (!seen.has(key)) {
        seen.add(key);
        flat.push(x);
      }
    }
  }
  if (flat.length === 1) return flat[0] as TsType;
  if (flat.length === 0) return T.never;
  return { k: "union", of: flat };
}

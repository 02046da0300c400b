// Conformance: apimachinery `pkg/fields/selector_test.go` and `fields_test.go`, test by test (same names), in our
// own words. Tests of Go-only API (Set.Has/Get, the internal term types) are covered as far as ours has them.
import { describe, expect, it } from "vitest";
import { splitFieldTerm, splitFieldTerms } from "../../src/fields.ts";
import {
  escapeFieldValue,
  type FieldRequirement,
  fieldSelectorMatcher,
  fieldSelectorString,
  newLister,
  objectFieldValue,
  SelectorParseError,
  unescapeFieldValue,
} from "../../src/index.ts";
import { IndexedCache } from "../../src/store.ts";

type Fields = Record<string, string>;
const parse = (s: string) => fieldSelectorMatcher(s);
const expectMatch = (s: string, fields: Fields) =>
  expect(parse(s).matches(fields), `${s} ~ ${JSON.stringify(fields)}`).toBe(true);
const expectNoMatch = (s: string, fields: Fields) =>
  expect(parse(s).matches(fields), `${s} !~ ${JSON.stringify(fields)}`).toBe(false);
const has = (field: string, value: string): FieldRequirement => ({ field, operator: "=", value });
const notHas = (field: string, value: string): FieldRequirement => ({ field, operator: "!=", value });

describe("apimachinery pkg/fields/selector_test.go", () => {
  it("TestSplitTerms", () => {
    const cases: [string, string[]][] = [
      ["a", ["a"]],
      ["a=avalue", ["a=avalue"]],
      ["a=avalue,b=bvalue", ["a=avalue", "b=bvalue"]],
      ["a=avalue,b==bvalue,c!=cvalue", ["a=avalue", "b==bvalue", "c!=cvalue"]],
      ["", []],
      ["a=a,", ["a=a", ""]],
      [",a=a", ["", "a=a"]],
      ["k=\\,,k2=v2", ["k=\\,", "k2=v2"]], // escaped comma in a value
      ["k=\\\\,k2=v2", ["k=\\\\", "k2=v2"]], // escaped backslash, unescaped comma
      ["k=\\\\\\,,k2=v2", ["k=\\\\\\,", "k2=v2"]], // escaped backslash and comma
      ["k=\\a\\b\\", ["k=\\a\\b\\"]], // non-escape sequences
      ["k=\\", ["k=\\"]], // orphan backslash
      ["함=수,목=록", ["함=수", "목=록"]],
    ];
    for (const [selector, terms] of cases) expect(splitFieldTerms(selector), selector).toEqual(terms);
  });

  it("TestSplitTerm", () => {
    const cases: [string, { field: string; op: string; value: string } | undefined][] = [
      ["a=value", { field: "a", op: "=", value: "value" }],
      ["b==value", { field: "b", op: "==", value: "value" }],
      ["c!=value", { field: "c", op: "!=", value: "value" }],
      ["", undefined],
      ["a", undefined],
      ["k=\\,", { field: "k", op: "=", value: "\\," }],
      ["k=\\=", { field: "k", op: "=", value: "\\=" }],
      ["k=\\\\\\a\\b\\=\\,\\", { field: "k", op: "=", value: "\\\\\\a\\b\\=\\,\\" }],
      ["함=수", { field: "함", op: "=", value: "수" }],
    ];
    for (const [term, out] of cases) expect(splitFieldTerm(term), term).toEqual(out);
  });

  it("TestEscapeValue", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["a", "a"],
      ["=", "\\="],
      [",", "\\,"],
      ["\\", "\\\\"],
      ["\\=\\,\\", "\\\\\\=\\\\\\,\\\\"],
    ];
    for (const [raw, escaped] of cases) {
      expect(escapeFieldValue(raw)).toBe(escaped);
      expect(unescapeFieldValue(escaped)).toBe(raw);
    }
    for (const bad of ["\\", "\\\\\\", "\\a"]) {
      expect(() => unescapeFieldValue(bad), bad).toThrow(/invalid escape sequence/);
    }
  });

  it("TestSelectorParse", () => {
    for (const s of ["x=a,y=b,z=c", "", "x!=a,y=b", "x=a||y\\=b", "x=a\\=\\=b"]) {
      expect(parse(s).toString(), s).toBe(s);
    }
    for (const s of ["x=a||y=b", "x==a==b", "x=a,b", "x in (a)", "x in (a,b,c)", "x"]) {
      expect(() => parse(s), s).toThrow(SelectorParseError);
    }
  });

  it("TestDeterministicParse", () => {
    expect(parse("x=a,a=x").toString()).toBe(parse("a=x,x=a").toString());
  });

  it("TestEverything", () => {
    expect(fieldSelectorMatcher(undefined).matches({ x: "y" })).toBe(true);
    expect(fieldSelectorMatcher(undefined).empty).toBe(true);
  });

  it("TestSelectorMatches", () => {
    expectMatch("", { x: "y" });
    expectMatch("x=y", { x: "y" });
    expectMatch("x=y,z=w", { x: "y", z: "w" });
    expectMatch("x!=y,z!=w", { x: "z", z: "a" });
    expectMatch("notin=in", { notin: "in" }); // in and notin in exact match
    expectNoMatch("x=y", { x: "z" });
    expectNoMatch("x=y,z=w", { x: "w", z: "w" });
    expectNoMatch("x!=y,z!=w", { x: "z", z: "w" });
    const fieldset = { foo: "bar", baz: "blah", complex: "=value\\,\\" };
    expectMatch("foo=bar", fieldset);
    expectMatch("baz=blah", fieldset);
    expectMatch("foo=bar,baz=blah", fieldset);
    expectMatch("foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", fieldset);
    expectNoMatch("foo=blah", fieldset);
    expectNoMatch("baz=bar", fieldset);
    expectNoMatch("foo=bar,foobar=bar,baz=blah", fieldset);
  });

  it("TestOneTermEqualSelector", () => {
    expect(fieldSelectorMatcher([has("x", "y")]).matches({ x: "y" })).toBe(true);
    expect(fieldSelectorMatcher([has("x", "y")]).matches({ x: "z" })).toBe(false);
  });

  it("TestSetMatches", () => {
    const set = { foo: "bar", baz: "blah" };
    const matching: Fields[] = [{}, { foo: "bar" }, { baz: "blah" }, { foo: "bar", baz: "blah" }];
    for (const s of matching) {
      expect(fieldSelectorMatcher(s).matches(set)).toBe(true);
    }
    const notMatching: Fields[] = [{ foo: "=blah" }, { baz: "=bar" }, { foo: "=bar", foobar: "bar", baz: "blah" }];
    for (const s of notMatching) {
      expect(fieldSelectorMatcher(s).matches(set)).toBe(false);
    }
  });

  it("TestNilMapIsValid", () => {
    expect(fieldSelectorMatcher(undefined).empty).toBe(true);
  });

  it("TestSetIsEmpty", () => {
    expect(fieldSelectorMatcher({}).empty).toBe(true);
    expect(fieldSelectorMatcher([]).empty).toBe(true);
    expect(fieldSelectorMatcher([has("", "")]).empty).toBe(false);
    expect(fieldSelectorMatcher([notHas("", "")]).empty).toBe(false);
    expect(fieldSelectorMatcher([has("a", "b")]).empty).toBe(false);
  });

  it("TestRequiresExactMatch", () => {
    const cases: [string, FieldRequirement[], string, string | undefined][] = [
      ["empty set", [], "test", undefined],
      ["empty hasTerm", [has("", "")], "test", undefined],
      ["skipped hasTerm", [has("a", "b")], "test", undefined],
      ["valid hasTerm", [has("test", "b")], "test", "b"],
      ["valid hasTerm no value", [has("test", "")], "test", ""],
      ["valid notHasTerm", [notHas("test", "b")], "test", undefined],
      ["valid notHasTerm no value", [notHas("test", "")], "test", undefined],
      ["andTerm with non-match", [has("", ""), has("test", "b")], "test", "b"],
    ];
    for (const [name, reqs, field, value] of cases) {
      expect(fieldSelectorMatcher(reqs).requiresExactMatch(field), name).toBe(value);
    }
  });

  it("TestTransform", () => {
    const cases: [string, string, (f: string, v: string) => readonly [string, string], string, boolean][] = [
      ["empty selector", "", (f, v) => [f, v], "", true],
      ["no-op transform", "a=b,c=d", (f, v) => [f, v], "a=b,c=d", false],
      ["transform one field", "a=b,c=d", (f, v) => (f === "a" ? ["e", "f"] : [f, v]), "e=f,c=d", false],
      ["remove field to make empty", "a=b", () => ["", ""], "", true],
      ["remove only one field", "a=b,c=d,e=f", (f, v) => (f === "c" ? ["", ""] : [f, v]), "a=b,e=f", false],
    ];
    for (const [name, selector, transform, out, empty] of cases) {
      const m = fieldSelectorMatcher(selector, { transform });
      expect(m.empty, name).toBe(empty);
      expect(m.toString(), name).toBe(out);
    }
  });
});

describe("apimachinery pkg/fields/fields_test.go", () => {
  it("TestSetString", () => {
    expect(fieldSelectorString({ x: "y" })).toBe("x=y");
    expect(fieldSelectorString({ foo: "bar" })).toBe("foo=bar");
    expect(fieldSelectorString({ foo: "bar", baz: "qup" })).toBe("baz=qup,foo=bar");
  });

  it("TestFieldHas", () => {
    // A field that is absent reads as "", like apimachinery's Fields.Get; presence itself is not selectable.
    expect(fieldSelectorMatcher("x!=").matches({ x: "y" })).toBe(true);
    expect(fieldSelectorMatcher("x=").matches({ x: "" })).toBe(true);
    expect(fieldSelectorMatcher("foo=").matches({ x: "y" })).toBe(true);
  });

  it("TestFieldGet", () => {
    expect(fieldSelectorMatcher("x=y").matches((f) => (f === "x" ? "y" : undefined))).toBe(true);
  });
});

describe("field selectors in listers", () => {
  interface Pod {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec?: { nodeName?: string; priority?: number };
    status?: { phase?: string };
  }
  const pod = (name: string, phase: string, nodeName?: string): Pod => ({
    metadata: { name, namespace: "ns", labels: { app: "web" } },
    spec: nodeName === undefined ? {} : { nodeName, priority: 5 },
    status: { phase },
  });
  const cache = new IndexedCache<Pod>();
  for (const p of [pod("a", "Running", "n1"), pod("b", "Pending"), pod("c", "Succeeded", "n2")]) cache.upsert(p);
  const lister = newLister(cache);
  const names = (pods: readonly { metadata: { name: string } }[]) => pods.map((p) => p.metadata.name).sort();

  it("filters by metadata.name, status.phase and spec fields, with label selectors", () => {
    expect(names(lister.list(undefined, "metadata.name=a"))).toEqual(["a"]);
    expect(names(lister.list(undefined, "status.phase!=Running"))).toEqual(["b", "c"]);
    expect(names(lister.list("app=web", "spec.nodeName=,status.phase==Pending"))).toEqual(["b"]);
    expect(
      names(lister.namespace("ns").list(undefined, { "metadata.namespace": "ns", "spec.nodeName": "n2" })),
    ).toEqual(["c"]);
    expect(names(lister.list("app=db", "metadata.name=a"))).toEqual([]);
    expect(names(lister.list(undefined, "spec.priority=5"))).toEqual(["a", "c"]);
    expect(() => lister.list(undefined, "metadata.name")).toThrow(SelectorParseError);
  });

  it("reads a field path as the selector compares it", () => {
    const obj = { a: { b: "x", n: 1, t: true, o: {}, l: [1], z: null } };
    expect(["a.b", "a.n", "a.t", "a.o", "a.l", "a.z", "a.missing", "b.c"].map((p) => objectFieldValue(obj, p))).toEqual(
      ["x", "1", "true", "", "", "", "", ""],
    );
  });
});

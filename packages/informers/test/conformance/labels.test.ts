// Conformance: apimachinery `pkg/labels/selector_test.go` and `labels_test.go`, test by test (same names), in our
// own words. Tests of Go-only API (Set methods, Nothing(), Add, safeSort, cmp.Equal) are listed in the README.
import { describe, expect, it } from "vitest";
import {
  type LabelOperator,
  type LabelRequirement,
  labelRequirement,
  labelSelectorMatcher,
  labelSelectorString,
  SelectorParseError,
} from "../../src/index.ts";
import { type LabelToken, lexLabelSelector } from "../../src/selector.ts";

type Labels = Record<string, string>;
const parse = (s: string) => labelSelectorMatcher(s);
const req = (key: string, op: LabelOperator, values: string[] = []) => labelRequirement(key, op, values);
const sel = (...reqs: LabelRequirement[]) => labelSelectorMatcher(reqs);
const plain = (reqs: readonly LabelRequirement[]) => reqs.map((r) => ({ ...r, values: [...r.values] }));
const expectMatch = (s: string, labels: Labels) =>
  expect(parse(s).matches(labels), `${s} ~ ${JSON.stringify(labels)}`).toBe(true);
const expectNoMatch = (s: string, labels: Labels) =>
  expect(parse(s).matches(labels), `${s} !~ ${JSON.stringify(labels)}`).toBe(false);

describe("apimachinery pkg/labels/selector_test.go", () => {
  it("TestSelectorParse", () => {
    const good = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"];
    for (const s of good) expect(parse(s).toString(), s).toBe(s.replaceAll(" ", ""));
    for (const s of ["x=a||y=b", "x==a==b", "!x=a", "x<a"]) expect(() => parse(s), s).toThrow(SelectorParseError);
  });

  it("TestDeterministicParse", () => {
    expect(parse("x=a,a=x").toString()).toBe(parse("a=x,x=a").toString());
  });

  it("TestEverything", () => {
    expect(labelSelectorMatcher(undefined).matches({ x: "y" })).toBe(true);
    expect(labelSelectorMatcher(undefined).empty).toBe(true);
  });

  it("TestSelectorMatches", () => {
    expectMatch("", { x: "y" });
    expectMatch("x=y", { x: "y" });
    expectMatch("x=y,z=w", { x: "y", z: "w" });
    expectMatch("x!=y,z!=w", { x: "z", z: "a" });
    expectMatch("notin=in", { notin: "in" }); // in and notin in exact match
    expectMatch("x", { x: "z" });
    expectMatch("!x", { y: "z" });
    expectMatch("x>1", { x: "2" });
    expectMatch("x<1", { x: "0" });
    expectNoMatch("x=z", {});
    expectNoMatch("x=y", { x: "z" });
    expectNoMatch("x=y,z=w", { x: "w", z: "w" });
    expectNoMatch("x!=y,z!=w", { x: "z", z: "w" });
    expectNoMatch("x", { y: "z" });
    expectNoMatch("!x", { x: "z" });
    expectNoMatch("x>1", { x: "0" });
    expectNoMatch("x<1", { x: "2" });
    const labelset = { foo: "bar", baz: "blah" };
    expectMatch("foo=bar", labelset);
    expectMatch("baz=blah", labelset);
    expectMatch("foo=bar,baz=blah", labelset);
    expectNoMatch("foo=blah", labelset);
    expectNoMatch("baz=bar", labelset);
    expectNoMatch("foo=bar,foobar=bar,baz=blah", labelset);
  });

  it("TestSetMatches", () => {
    const labelset = { foo: "bar", baz: "blah" };
    const sets: Labels[] = [{}, { foo: "bar" }, { baz: "blah" }, { foo: "bar", baz: "blah" }];
    for (const set of sets) {
      expect(labelSelectorMatcher(set).matches(labelset)).toBe(true);
    }
  });

  it("TestNilMapIsValid", () => {
    expect(labelSelectorMatcher(undefined).empty).toBe(true);
  });

  it("TestSetIsEmpty", () => {
    expect(labelSelectorMatcher({}).empty).toBe(true);
    expect(labelSelectorMatcher([]).empty).toBe(true);
  });

  it("TestLexer", () => {
    const cases: [string, LabelToken][] = [
      ["", "end"],
      [",", ","],
      ["notin", "notin"],
      ["in", "in"],
      ["=", "="],
      ["==", "=="],
      [">", ">"],
      ["<", "<"],
      ["!", "!"], // the longest valid token is returned
      ["!=", "!="],
      ["(", "("],
      [")", ")"],
      ["~", "identifier"], // non-special characters are part of an identifier
      ["||", "identifier"],
    ];
    for (const [s, token] of cases) {
      const first = lexLabelSelector(s)[0]!;
      expect(first.token, s).toBe(token);
      expect(first.literal, s).toBe(s);
    }
  });

  const sequences: [string, LabelToken[]][] = [
    ["key in ( value )", ["identifier", "in", "(", "identifier", ")"]],
    ["key notin ( value )", ["identifier", "notin", "(", "identifier", ")"]],
    ["key in ( value1, value2 )", ["identifier", "in", "(", "identifier", ",", "identifier", ")"]],
    ["key", ["identifier"]],
    ["!key", ["!", "identifier"]],
    ["()", ["(", ")"]],
    ["x in (),y", ["identifier", "in", "(", ")", ",", "identifier"]],
    ["== != (), = notin", ["==", "!=", "(", ")", ",", "=", "notin"]],
    ["key>2", ["identifier", ">", "identifier"]],
    ["key<1", ["identifier", "<", "identifier"]],
  ];

  it("TestLexerSequence", () => {
    for (const [s, tokens] of sequences) {
      expect(
        lexLabelSelector(s)
          .map((t) => t.token)
          .filter((t) => t !== "end"),
        s,
      ).toEqual(tokens);
    }
  });

  // Upstream drives the parser's internal lookahead/consume; our lexer returns the whole scan, end token included.
  it("TestParserLookahead", () => {
    for (const [s, tokens] of [...sequences, ["", []] as [string, LabelToken[]]]) {
      expect(
        lexLabelSelector(s).map((t) => t.token),
        s,
      ).toEqual([...tokens, "end"]);
    }
  });

  // Upstream parses a lone operator token with the internal parseOperator; we parse `x <op> 1` (or `x <op> (1)`).
  it("TestParseOperator", () => {
    for (const op of ["in", "notin"]) expect(() => parse(`x ${op} (1)`)).not.toThrow();
    for (const op of ["=", "==", ">", "<", "!="]) expect(() => parse(`x${op}1`)).not.toThrow();
    for (const bad of ["!", "exists", "("]) {
      expect(() => parse(`x ${bad} 1`), bad).toThrow(/expected an operator: in, notin, =, ==, !=, >, </);
    }
  });

  it("TestRequirementConstructor", () => {
    const cases: [string, LabelOperator, string[], string | undefined][] = [
      ["x1", "in", [], "values"],
      ["x2", "notin", [], "values"],
      ["x3", "in", ["foo"], undefined],
      ["x4", "notin", ["foo"], undefined],
      ["x5", "=", ["bar", "foo"], "values"],
      ["x6", "exists", [], undefined],
      ["x7", "!", [], undefined],
      ["x8", "exists", ["foo"], "values"],
      ["x9", "in", ["bar"], undefined],
      ["x10", "in", ["bar"], undefined],
      ["x11", "gt", ["1"], undefined],
      ["x12", "lt", ["6"], undefined],
      ["x13", "gt", [], "values"],
      ["x14", "gt", ["bar"], "values[0]"],
      ["x15", "lt", ["bar"], "values[0]"],
      ["a".repeat(254), "exists", [], "key"], // breaks the DNS rule that len(key) <= 253
      ["x16", "=", ["a".repeat(254)], "values[0][x16]"],
      ["x17", "=", ["a b"], "values[0][x17]"],
      ["x18", "unsupportedOp" as LabelOperator, [], "operator"],
    ];
    for (const [key, op, values, field] of cases) {
      let error: unknown;
      try {
        labelRequirement(key, op, values);
      } catch (err) {
        error = err;
      }
      if (field === undefined) {
        expect(error, key).toBeUndefined();
      } else {
        expect(error, key).toBeInstanceOf(SelectorParseError);
        expect((error as SelectorParseError).field, key).toBe(field);
      }
    }
  });

  it("TestToString", () => {
    const cases: [LabelRequirement[], string][] = [
      [
        [req("x", "in", ["abc", "def"]), req("y", "notin", ["jkl"]), req("z", "exists")],
        "x in (abc,def),y notin (jkl),z",
      ],
      [[req("x", "notin", ["abc", "def"]), req("y", "!=", ["jkl"]), req("z", "!")], "x notin (abc,def),y!=jkl,!z"],
      [
        [req("x", "notin", ["abc"]), req("y", "in", ["jkl", "mno"]), req("z", "notin", [""])],
        "x notin (abc),y in (jkl,mno),z notin ()",
      ],
      [
        [req("x", "=", ["abc"]), req("y", "==", ["jkl"]), req("z", "!=", ["a"]), req("z", "exists")],
        "x=abc,y==jkl,z!=a,z",
      ],
      [[req("x", "gt", ["2"]), req("y", "lt", ["8"]), req("z", "exists")], "x>2,y<8,z"],
      // Beyond upstream: set values are written sorted whatever order they were given in.
      [[req("x", "in", ["def", "abc"])], "x in (abc,def)"],
    ];
    for (const [reqs, out] of cases) expect(sel(...reqs).toString()).toBe(out);
  });

  it("TestRequirementSelectorMatching", () => {
    const cases: [Labels, LabelRequirement[], boolean][] = [
      [{ x: "foo", y: "baz" }, [req("x", "in", ["foo"]), req("y", "notin", ["alpha"])], true],
      [{ x: "foo", y: "baz" }, [req("x", "in", ["foo"]), req("y", "in", ["alpha"])], false],
      [{ y: "" }, [req("x", "notin", [""]), req("y", "exists")], true],
      [{ y: "" }, [req("x", "!"), req("y", "exists")], true],
      [{ y: "" }, [req("x", "notin", [""]), req("y", "!")], false],
      [{ y: "baz" }, [req("x", "in", [""])], false],
      [{ z: "2" }, [req("z", "gt", ["1"])], true],
      [{ z: "v2" }, [req("z", "gt", ["1"])], false],
    ];
    for (const [labels, reqs, match] of cases) expect(sel(...reqs).matches(labels)).toBe(match);
  });

  it("TestSetSelectorParser", () => {
    // [input, expected requirements (null: not compared), compare?, valid?]
    const cases: [string, LabelRequirement[] | null, boolean, boolean][] = [
      ["", [], true, true],
      ["\rx", [req("x", "exists")], true, true],
      ["this-is-a-dns.domain.com/key-with-dash", [req("this-is-a-dns.domain.com/key-with-dash", "exists")], true, true],
      [
        "this-is-another-dns.domain.com/key-with-dash in (so,what)",
        [req("this-is-another-dns.domain.com/key-with-dash", "in", ["so", "what"])],
        true,
        true,
      ],
      [
        "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
        [req("0.1.2.domain/99", "notin", ["10.10.100.1", "tick.tack.clock"])],
        true,
        true,
      ],
      ["foo  in\t (abc)", [req("foo", "in", ["abc"])], true, true],
      ["x notin\n (abc)", [req("x", "notin", ["abc"])], true, true],
      ["x  notin\t\t\t(abc,def)", [req("x", "notin", ["abc", "def"])], true, true],
      ["x in (abc,def)", [req("x", "in", ["abc", "def"])], true, true],
      ["x in (abc,)", [req("x", "in", ["", "abc"])], true, true],
      ["x in (abc,abc)", [req("x", "in", ["abc"])], true, true],
      ["x in ()", [req("x", "in", [""])], true, true],
      ["x in (a,,)", [req("x", "in", ["", "a"])], true, true],
      ["x in (a,,,)", [req("x", "in", ["", "a"])], true, true],
      ["x in (a,,,,,,)", [req("x", "in", ["", "a"])], true, true],
      ["x in (a,,a,,a,,a,,)", [req("x", "in", ["", "a"])], true, true],
      [
        "x notin (abc,,def),bar,z in (),w",
        [req("bar", "exists"), req("w", "exists"), req("x", "notin", ["", "abc", "def"]), req("z", "in", [""])],
        true,
        true,
      ],
      ["x,y in (a)", [req("y", "in", ["a"]), req("x", "exists")], false, true],
      ["x=a", [req("x", "=", ["a"])], true, true],
      ["x>1", [req("x", "gt", ["1"])], true, true],
      ["x<7", [req("x", "lt", ["7"])], true, true],
      ["x=a,y!=b", [req("x", "=", ["a"]), req("y", "!=", ["b"])], true, true],
      [
        "x=a,y!=b,z in (h,i,j)",
        [req("x", "=", ["a"]), req("y", "!=", ["b"]), req("z", "in", ["h", "i", "j"])],
        true,
        true,
      ],
      ["x=a||y=b", null, false, false],
      ["x,,y", null, true, false],
      [",x,y", null, true, false],
      ["x nott in (y)", null, true, false],
      ["x notin ( )", [req("x", "notin", [""])], true, true],
      ["x notin (, a)", [req("x", "notin", ["", "a"])], true, true],
      ["a in (xyz),", null, true, false],
      ["a in (xyz)b notin ()", null, true, false],
      ["a ", [req("a", "exists")], true, true],
      ["a in (x,y,notin, z,in)", [req("a", "in", ["in", "notin", "x", "y", "z"])], true, true], // keywords as values
      ["a in (xyz abc)", null, false, false], // no comma
      ["a notin(", null, true, false], // badly formed
      ["a (", null, false, false], // closing paren missing
      ["(", null, false, false], // opening paren
    ];
    for (const [input, out, compare, valid] of cases) {
      if (!valid) {
        expect(() => parse(input), input).toThrow(SelectorParseError);
        continue;
      }
      const parsed = parse(input);
      if (compare && out !== null) expect(plain(parsed.requirements), input).toEqual(plain(out));
    }
  });

  it("TestSetSelectorString", () => {
    const cases: [Labels, string][] = [
      [{}, ""],
      [{ app: "foo" }, "app=foo"],
      [{ app: "foo", a: "b" }, "a=b,app=foo"],
    ];
    for (const [set, out] of cases) {
      expect(labelSelectorMatcher(set).toString()).toBe(out);
      expect(labelSelectorString(set)).toBe(out);
    }
  });

  it("TestRequiresExactMatch", () => {
    const cases: [string, LabelRequirement[], string, string | undefined][] = [
      ["keyInOperatorExactMatch", [req("key", "in", ["value"])], "key", "value"],
      ["keyInOperatorNotExactMatch", [req("key", "in", ["value", "value2"])], "key", undefined],
      [
        "keyInOperatorNotExactMatch",
        [req("key", "in", ["value", "value1"]), req("key2", "in", ["value2"])],
        "key2",
        "value2",
      ],
      ["keyEqualOperatorExactMatch", [req("key", "=", ["value"])], "key", "value"],
      ["keyDoubleEqualOperatorExactMatch", [req("key", "==", ["value"])], "key", "value"],
      ["keyNotEqualOperatorExactMatch", [req("key", "!=", ["value"])], "key", undefined],
      ["keyEqualOperatorExactMatchFirst", [req("key", "in", ["value"]), req("key2", "in", ["value2"])], "key", "value"],
    ];
    for (const [name, reqs, key, value] of cases) expect(sel(...reqs).requiresExactMatch(key), name).toBe(value);
  });

  it("TestValidatedSelectorFromSet", () => {
    const ok = labelSelectorMatcher({ key: "val" }, { validate: true });
    expect(plain(ok.requirements)).toEqual([{ key: "key", operator: "=", values: ["val"] }]);
    const tooLong = "axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui";
    expect(() => labelSelectorMatcher({ Key: tooLong }, { validate: true })).toThrow(
      expect.objectContaining({ field: "values[0][Key]" }),
    );
    // Without `validate` a map is taken as it is, as apimachinery's SelectorFromSet.
    expect(labelSelectorMatcher({ Key: tooLong }).matches({ Key: tooLong })).toBe(true);
  });

  // Upstream checks MatchesNothing(selector) for Nothing(), Everything(), sets and parsed selectors; we have no
  // "nothing" selector, so what carries over is that no parsed or set selector is "everything" unless it is empty,
  // including contradictory ones.
  it("TestMatchesNothing", () => {
    expect(labelSelectorMatcher({}).empty).toBe(true);
    expect(labelSelectorMatcher({ key: "value" }).empty).toBe(false);
    expect(parse("").empty).toBe(true);
    for (const s of ["a", "!a", "a=b", "a!=b", "a in (b)", "a notin (b)", "a,!a", "a=b,a!=b", "a in (b),a notin (b)"]) {
      expect(parse(s).empty, s).toBe(false);
    }
    expect(parse("a,!a").matches({ a: "b" })).toBe(false);
    expect(parse("a,!a").matches({})).toBe(false);
  });
});

describe("apimachinery pkg/labels/labels_test.go", () => {
  it("TestSetString", () => {
    expect(labelSelectorString({ x: "y" })).toBe("x=y");
    expect(labelSelectorString({ foo: "bar" })).toBe("foo=bar");
    expect(labelSelectorString({ foo: "bar", baz: "qup" })).toBe("baz=qup,foo=bar");
  });
});

describe("regressions found by the port", () => {
  it("accepts x>1 and x<7 (Gt/Lt on integers), as the apiserver does", () => {
    expect(parse("x>1").matches({ x: "2" })).toBe(true);
    expect(parse("x<7").matches({ x: "7" })).toBe(false);
    expect(parse("x>1").matches({ x: "v2" })).toBe(false); // a label that is not an integer never matches
    expect(parse("x<9223372036854775807").matches({ x: "9223372036854775806" })).toBe(true); // int64, exactly
    // As in apimachinery, the bound must also be a label value, so a negative bound is rejected.
    expect(() => parse("x>-1")).toThrow(SelectorParseError);
  });

  it("explains a bad selector by what is wrong, not as a bad key", () => {
    expect(() => parse("x>a")).toThrow(/'gt' needs an integer, got "a"/);
    expect(() => parse("x=a b")).toThrow(/expected ',' or the end/);
    expect(() => parse(`x=${"v".repeat(64)}`)).toThrow(/no more than 63 characters/);
  });

  it("validates keys as qualified names: name <= 63, charset, optional DNS-subdomain prefix <= 253", () => {
    expect(() => parse(`${"a".repeat(63)}=b`)).not.toThrow();
    expect(() => parse(`${"a".repeat(64)}=b`)).toThrow(/name must be no more than 63/);
    expect(() => parse(`${"a".repeat(253)}/b`)).not.toThrow();
    expect(() => parse(`${"a".repeat(254)}/b`)).toThrow(/prefix must be no more than 253/);
    expect(() => parse("Example.com/b")).toThrow(/DNS subdomain/);
    expect(() => parse("/b")).toThrow(/prefix before '\/' must be non-empty/);
    expect(() => parse("a/b/c")).toThrow(/one '\/'/);
    expect(() => parse("-a=b")).toThrow(/start/);
    expect(() => parse("a_b.C-d=x")).not.toThrow();
    expect(() => parse("a=-b")).toThrow(/value "-b"/);
    expect(() => parse("a=")).not.toThrow(); // values may be empty
  });

  it("takes only space, \\t, \\r and \\n as whitespace", () => {
    expect(parse("a\t=\rb,\nc").toString()).toBe("a=b,c");
    // A no-break space or a vertical tab is part of an identifier, which then is not a valid key.
    expect(() => parse("a\u00a0=b")).toThrow(SelectorParseError);
    expect(() => parse("a\v=b")).toThrow(SelectorParseError);
  });

  it("writes a map selector in sorted key order", () => {
    expect(labelSelectorString({ z: "1", a: "2", m: "3" })).toBe("a=2,m=3,z=1");
  });
});

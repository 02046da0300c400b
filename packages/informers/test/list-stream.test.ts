import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ListDecodeError } from "../src/index.ts";
import { ListBodyDecoder } from "../src/list-stream.ts";

const enc = new TextEncoder();

function decodeInChunks(text: string, cuts: number[]): unknown {
  const bytes = enc.encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const d = new ListBodyDecoder();
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    d.push(bytes.subarray(prev, p));
    prev = p;
  }
  return d.end();
}

// Strings full of what a byte scanner can get wrong.
const nasty = fc.string({
  unit: fc.constantFrom("a", "\\", '"', "{", "}", "[", "]", ",", ":", "é", "😀", "\n", " ", "items"),
  maxLength: 12,
});
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    nasty,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(nasty, tie("value"), { maxKeys: 3 }),
  ),
})).value;

describe("ListBodyDecoder", () => {
  it("decodes any list however the bytes are cut, items one by one", () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(nasty, json, { maxKeys: 4 }), { maxLength: 6 }),
        fc.dictionary(nasty, json, { maxKeys: 2 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, extra, cuts) => {
          const list = { kind: "ThingList", ...extra, metadata: { resourceVersion: "7", continue: 'a"b\\' }, items };
          const text = JSON.stringify(list);
          const expected = JSON.parse(text) as Record<string, unknown>;
          expect(decodeInChunks(text, cuts)).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("finds items wherever the key comes and ignores an 'items' string value", () => {
    const text = '{"x":"items","items":[{"a":"}"},{"b":["]"]}],"metadata":{"resourceVersion":"3"},"kind":"L"}';
    for (let cut = 0; cut <= text.length; cut++) expect(decodeInChunks(text, [cut])).toEqual(JSON.parse(text));
    const seen: unknown[] = [];
    const d = new ListBodyDecoder((i) => seen.push(i));
    d.push(enc.encode(text));
    expect(seen).toEqual([{ a: "}" }, { b: ["]"] }]);
  });

  it("rejects truncated and malformed bodies", () => {
    const d = new ListBodyDecoder();
    d.push(enc.encode('{"items":[{"a":1},{"b":'));
    expect(() => d.end()).toThrow(ListDecodeError);
    const e = new ListBodyDecoder();
    expect(() => e.push(enc.encode('{"items":[{"a":tru}]}'))).toThrow(ListDecodeError);
    const f = new ListBodyDecoder();
    expect(() => f.push(enc.encode("}}"))).toThrow(ListDecodeError);
  });
});

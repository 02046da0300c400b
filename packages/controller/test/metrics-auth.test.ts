import { request } from "node:https";
import { FakeClock } from "@minitask/workqueue";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type AccessReviews, RequestAuthorizer, type UserInfo } from "../src/metrics-auth.ts";
import { EndpointServer } from "../src/server.ts";
import { selfSignedCertificate } from "../src/serving-cert.ts";

/** Reviews answered from tables, counting the questions asked. */
function fakeReviews(tokens: Record<string, UserInfo>, allowed: Set<string>) {
  const asked = { authenticate: 0, authorize: 0 };
  let failing = false;
  const reviews: AccessReviews = {
    async authenticate(token) {
      asked.authenticate++;
      if (failing) throw new Error("connect ECONNREFUSED");
      return tokens[token];
    },
    async authorize(user, path, verb) {
      asked.authorize++;
      if (failing) throw new Error("connect ECONNREFUSED");
      return allowed.has(`${user.username} ${verb} ${path}`);
    },
  };
  return { reviews, asked, fail: (on: boolean) => (failing = on) };
}

describe("RequestAuthorizer", () => {
  const alice = { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:serviceaccounts"] };
  const bob = { username: "bob" };

  it("answers 401 without a bearer token, without asking the apiserver", async () => {
    const f = fakeReviews({}, new Set());
    const a = new RequestAuthorizer(f.reviews);
    for (const header of [undefined, "", "Basic dXNlcjpwYXNz", "Bearer "]) {
      const d = await a.check(header, "/metrics", "get");
      expect(d).toMatchObject({ allowed: false, status: 401 });
    }
    expect(f.asked).toEqual({ authenticate: 0, authorize: 0 });
  });

  it("answers 401 for a token the apiserver rejects, 403 for a user without the permission, else allows", async () => {
    const f = fakeReviews({ "a-token": alice, "b-token": bob }, new Set([`${alice.username} get /metrics`]));
    const a = new RequestAuthorizer(f.reviews);
    expect(await a.check("Bearer nope", "/metrics", "get")).toMatchObject({ allowed: false, status: 401 });
    const denied = await a.check("Bearer b-token", "/metrics", "get");
    expect(denied).toMatchObject({ allowed: false, status: 403 });
    expect(denied.allowed === false && denied.reason).toContain('user "bob" may not get /metrics');
    expect(await a.check("bearer a-token", "/metrics", "get")).toEqual({ allowed: true, user: alice });
    // The permission is per path.
    expect(await a.check("Bearer a-token", "/debug/caches", "get")).toMatchObject({ status: 403 });
  });

  it("caches accepted answers for a minute and refusals for ten seconds", async () => {
    const clock = new FakeClock();
    const allowed = new Set([`${alice.username} get /metrics`]);
    const f = fakeReviews({ "a-token": alice, "b-token": bob }, allowed);
    const a = new RequestAuthorizer(f.reviews, { clock });
    for (let i = 0; i < 5; i++) expect((await a.check("Bearer a-token", "/metrics", "get")).allowed).toBe(true);
    expect(f.asked).toEqual({ authenticate: 1, authorize: 1 });
    for (let i = 0; i < 5; i++) expect((await a.check("Bearer b-token", "/metrics", "get")).allowed).toBe(false);
    expect(f.asked).toEqual({ authenticate: 2, authorize: 2 });
    // Bob is granted the permission: seen once the 10 s denial expires; Alice's grant is still cached.
    allowed.add(`bob get /metrics`);
    clock.advance(10_001);
    expect((await a.check("Bearer b-token", "/metrics", "get")).allowed).toBe(true);
    expect((await a.check("Bearer a-token", "/metrics", "get")).allowed).toBe(true);
    expect(f.asked).toEqual({ authenticate: 2, authorize: 3 });
    // Revoked from Alice: still allowed until her cached answer expires at one minute.
    allowed.delete(`${alice.username} get /metrics`);
    expect((await a.check("Bearer a-token", "/metrics", "get")).allowed).toBe(true);
    clock.advance(50_000);
    expect(await a.check("Bearer a-token", "/metrics", "get")).toMatchObject({ status: 403 });
  });

  it("answers 500 when the apiserver cannot be asked, and does not cache that", async () => {
    const f = fakeReviews({ "a-token": alice }, new Set([`${alice.username} get /metrics`]));
    const a = new RequestAuthorizer(f.reviews);
    f.fail(true);
    const d = await a.check("Bearer a-token", "/metrics", "get");
    expect(d).toMatchObject({ allowed: false, status: 500 });
    expect(d.allowed === false && d.reason).toContain("ECONNREFUSED");
    f.fail(false);
    expect((await a.check("Bearer a-token", "/metrics", "get")).allowed).toBe(true);
  });

  it("keeps at most maxEntries answers, dropping the oldest", async () => {
    const tokens = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`t${i}`, { username: `u${i}` }]));
    const f = fakeReviews(tokens, new Set());
    const a = new RequestAuthorizer(f.reviews, { maxEntries: 2 });
    for (const t of ["t0", "t1", "t2"]) await a.check(`Bearer ${t}`, "/metrics", "get");
    expect(f.asked.authenticate).toBe(3);
    await a.check("Bearer t2", "/metrics", "get");
    expect(f.asked.authenticate).toBe(3);
    await a.check("Bearer t0", "/metrics", "get");
    expect(f.asked.authenticate).toBe(4);
  });
});

function httpsGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("EndpointServer with TLS and a guard", () => {
  const servers: EndpointServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("serves /metrics over HTTPS only when the guard allows, and never guards the probes", async () => {
    const registry = new Registry();
    new Counter({ name: "guarded_total", help: "x", registers: [registry] }).inc();
    const f = fakeReviews({ good: { username: "scraper" } }, new Set(["scraper get /metrics"]));
    const authorizer = new RequestAuthorizer(f.reviews);
    const s = new EndpointServer({
      registry,
      tls: await selfSignedCertificate(),
      guard: (h, path, verb) => authorizer.check(h, path, verb),
      jsonRoutes: { "/debug/caches": () => ({ keys: 1 }) },
    });
    servers.push(s);
    const port = await s.listen("127.0.0.1", 0);
    const none = await httpsGet(port, "/metrics");
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toContain("Bearer");
    expect((await httpsGet(port, "/metrics", { authorization: "Bearer bad" })).status).toBe(401);
    const ok = await httpsGet(port, "/metrics", { authorization: "Bearer good" });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("guarded_total 1");
    // Debug routes are guarded by their own path.
    expect((await httpsGet(port, "/debug/caches", { authorization: "Bearer good" })).status).toBe(403);
    expect((await httpsGet(port, "/healthz")).status).toBe(200);
    expect((await httpsGet(port, "/nope", { authorization: "Bearer good" })).status).toBe(404);
    // Plain HTTP is not spoken on that port.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

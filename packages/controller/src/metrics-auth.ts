// Authenticated, authorized /metrics, as controller-runtime's WithAuthenticationAndAuthorization filter: the
// caller's bearer token is checked by the apiserver (TokenReview), then whether that user may `get` the path
// (SubjectAccessReview on a non-resource URL). Answers are cached briefly, so a scrape every few seconds costs
// the apiserver two requests a minute, not two per scrape.
import { createHash } from "node:crypto";
import { builtinResources, type KubeClient, type KubeObject } from "@minitask/client";
import { type Clock, realClock } from "@minitask/workqueue";

/** Who the apiserver says a token belongs to. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The two questions asked of the apiserver; {@link apiserverReviews} asks them over a client. */
export interface AccessReviews {
  /** The token's user, or undefined when the apiserver does not accept the token. */
  authenticate(token: string): Promise<UserInfo | undefined>;
  /** Whether `user` may do `verb` on the non-resource URL `path`. */
  authorize(user: UserInfo, path: string, verb: string): Promise<boolean>;
}

/** The outcome for one request: served, or refused with the status to answer. */
export type AccessDecision =
  | { readonly allowed: true; readonly user: UserInfo }
  | { readonly allowed: false; readonly status: 401 | 403 | 500; readonly reason: string };

export interface RequestAuthorizerOptions {
  readonly clock?: Clock;
  /** How long an authenticated token is trusted. Default 1 min. */
  readonly authenticatedTtlMs?: number;
  /** How long a rejected token stays rejected. Default 10 s. */
  readonly unauthenticatedTtlMs?: number;
  /** How long an allowed decision is kept. Default 1 min. */
  readonly allowedTtlMs?: number;
  /** How long a denied decision is kept. Default 10 s. */
  readonly deniedTtlMs?: number;
  /** Entries per cache; the oldest goes first. Default 1024. */
  readonly maxEntries?: number;
}

/** A small map whose entries expire, bounded by dropping the oldest. */
class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #clock: Clock;
  readonly #max: number;

  constructor(clock: Clock, max: number) {
    this.#clock = clock;
    this.#max = max;
  }

  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expires > this.#clock.now()) return e.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, { value, expires: this.#clock.now() + ttlMs });
  }
}

const bearer = /^Bearer\s+(\S+)\s*$/i;

/**
 * Decides whether a request may read a protected path: 401 without a token the apiserver accepts, 403 when
 * its user lacks the permission, 500 when the apiserver could not be asked (never cached).
 */
export class RequestAuthorizer {
  readonly #reviews: AccessReviews;
  readonly #o: Required<Omit<RequestAuthorizerOptions, "clock">>;
  readonly #tokens: TtlCache<UserInfo | null>;
  readonly #decisions: TtlCache<boolean>;

  constructor(reviews: AccessReviews, opts: RequestAuthorizerOptions = {}) {
    this.#reviews = reviews;
    const clock = opts.clock ?? realClock;
    this.#o = {
      authenticatedTtlMs: opts.authenticatedTtlMs ?? 60_000,
      unauthenticatedTtlMs: opts.unauthenticatedTtlMs ?? 10_000,
      allowedTtlMs: opts.allowedTtlMs ?? 60_000,
      deniedTtlMs: opts.deniedTtlMs ?? 10_000,
      maxEntries: opts.maxEntries ?? 1024,
    };
    this.#tokens = new TtlCache(clock, this.#o.maxEntries);
    this.#decisions = new TtlCache(clock, this.#o.maxEntries);
  }

  async check(authorization: string | undefined, path: string, verb: string): Promise<AccessDecision> {
    const token = bearer.exec(authorization ?? "")?.[1];
    if (!token) return { allowed: false, status: 401, reason: "Unauthorized: a bearer token is required" };
    // Keyed by a digest: the cache never holds a token itself.
    const tokenKey = createHash("sha256").update(token).digest("base64url");
    let user = this.#tokens.get(tokenKey);
    if (user === undefined) {
      try {
        user = (await this.#reviews.authenticate(token)) ?? null;
      } catch (err) {
        return { allowed: false, status: 500, reason: `could not review the token: ${(err as Error).message}` };
      }
      const ttl = user ? this.#o.authenticatedTtlMs : this.#o.unauthenticatedTtlMs;
      this.#tokens.set(tokenKey, user, ttl);
    }
    if (user === null) return { allowed: false, status: 401, reason: "Unauthorized: the token was not accepted" };
    const decisionKey = JSON.stringify([user.username, user.uid, user.groups, user.extra, path, verb]);
    let allowed = this.#decisions.get(decisionKey);
    if (allowed === undefined) {
      try {
        allowed = await this.#reviews.authorize(user, path, verb);
      } catch (err) {
        return { allowed: false, status: 500, reason: `could not review access: ${(err as Error).message}` };
      }
      this.#decisions.set(decisionKey, allowed, allowed ? this.#o.allowedTtlMs : this.#o.deniedTtlMs);
    }
    if (!allowed) {
      return {
        allowed: false,
        status: 403,
        reason: `Forbidden: user "${user.username}" may not ${verb} ${path} (bind a ClusterRole granting nonResourceURLs ["${path}"], verb "${verb}")`,
      };
    }
    return { allowed: true, user };
  }
}

interface Review extends KubeObject {
  spec: Record<string, unknown>;
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    allowed?: boolean;
  };
}

/** {@link AccessReviews} through the apiserver: TokenReview and SubjectAccessReview creates. */
export function apiserverReviews(client: KubeClient): AccessReviews {
  const tokenReviews = client.resource<Review>(builtinResources.tokenReviews);
  const accessReviews = client.resource<Review>(builtinResources.subjectAccessReviews);
  return {
    async authenticate(token) {
      const r = await tokenReviews.create({ spec: { token } });
      const u = r.status?.user;
      if (!r.status?.authenticated || !u?.username) return undefined;
      return {
        username: u.username,
        ...(u.uid ? { uid: u.uid } : {}),
        ...(u.groups ? { groups: u.groups } : {}),
        ...(u.extra ? { extra: u.extra } : {}),
      };
    },
    async authorize(user, path, verb) {
      const r = await accessReviews.create({
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.extra ? { extra: user.extra } : {}),
          nonResourceAttributes: { path, verb },
        },
      });
      return r.status?.allowed === true;
    },
  };
}

// The worker loop of a controller, client-go style: N async workers take keys from a rate-limited
// work queue, call the reconcile function, and mark the key done. The queue guarantees that one key is
// never reconciled by two workers at once; this file guarantees that a reconcile that throws or hangs
// never kills a worker.
import { randomUUID } from "node:crypto";
import { type MetricsProvider, newRateLimitingQueue, type RateLimitingQueue } from "@minitask/workqueue";
import type { Logger } from "./logging.ts";
import { silentLogger } from "./logging.ts";
import type { Manager, Runnable } from "./manager.ts";
import type { ControllerMetrics, ReconcileResultLabel } from "./metrics.ts";
import { pause } from "./sleep.ts";

/** What a reconcile asks for next (controller-runtime's `reconcile.Result`). */
export interface Result {
  /** Reconcile this key again after this many milliseconds (also after success: e.g. a timeout deadline). */
  readonly requeueAfterMs?: number;
  /** Reconcile again with rate limiting (backoff), without it being an error. */
  readonly requeue?: boolean;
}

/** What a reconcile gets besides its key. */
export interface ReconcileContext {
  /** Aborted when the per-reconcile timeout passes or the controller is force-stopped. */
  readonly signal: AbortSignal;
  /** A logger with `controller`, `key` and `reconcileID` bound. */
  readonly log: Logger;
  readonly reconcileId: string;
}

/**
 * A reconcile (controller-runtime's `Reconciler`): makes the world match the desired state of the object `key`
 * names. Resolving with nothing is success without a requeue; throwing retries with backoff, except a
 * {@link TerminalError}.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: reconcile functions may return nothing (async () => {})
export type ReconcileFunc = (key: string, ctx: ReconcileContext) => Promise<Result | undefined | void>;
type ReconcileOutput = Awaited<ReturnType<ReconcileFunc>>;

/** Anything whose cache must be synced before the first reconcile (an informer, a handler registration). */
export interface Syncable {
  hasSynced(): boolean;
}

/** How a {@link Controller} runs. */
export interface ControllerOptions {
  /** Name: the `controller` label of metrics, the queue's name and the logger's `controller` field. */
  readonly name: string;
  readonly reconcile: ReconcileFunc;
  /** Caches to wait for before the first reconcile. */
  readonly waitFor?: readonly Syncable[];
  /** Number of concurrent workers. Default 1. */
  readonly workers?: number;
  /** Abort a reconcile after this long (its key is retried with backoff). 0 = no timeout. Default 0. */
  readonly reconcileTimeoutMs?: number;
  /** The work queue; default: a rate-limiting queue named after the controller. */
  readonly queue?: RateLimitingQueue<string>;
  readonly logger?: Logger;
  readonly metrics?: ControllerMetrics;
  /** Workqueue metrics provider for the default queue. */
  readonly queueMetrics?: MetricsProvider;
  /** How often to check the caches while waiting for sync. Default 100 ms. */
  readonly syncPollMs?: number;
  /** As a Manager runnable: run only on the elected leader. Default true. */
  readonly needLeaderElection?: boolean;
  /**
   * With sharding: asked before each reconcile whether this replica works the key's bucket; a key it does not
   * is dropped from the queue (its owner reconciles it). See `ShardCoordinator`.
   */
  readonly shards?: { admit(key: string): boolean };
}

/** The error a reconcile that overran `reconcileTimeoutMs` is aborted with (its key is retried with backoff). */
export class ReconcileTimeoutError extends Error {
  override readonly name = "ReconcileTimeoutError";
}

/**
 * A failure that retrying cannot fix (controller-runtime's `reconcile.TerminalError`): the controller
 * logs it, counts it in `controller_runtime_terminal_reconcile_errors_total` and does not requeue the key.
 * The key is reconciled again only when an event for it arrives. Record the reason on the object's status
 * before throwing it, so users see it.
 */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

/**
 * A controller: a queue, a reconcile function and workers. Feed keys with `queue.add(key)` (usually from
 * informer event handlers: `enqueue.ts`, or let `controllerFor` wire them), then `await controller.run(signal)`
 * — or add it to a {@link Manager}, which runs it.
 */
export class Controller implements Runnable {
  readonly name: string;
  readonly needLeaderElection: boolean;
  readonly queue: RateLimitingQueue<string>;
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  #active = 0;
  #started = false;
  /** Keys whose reconcile overran its timeout and is still running (its `done` is deferred). */
  readonly #overrunning = new Set<string>();
  /** Keys being reconciled (until `done`), and who waits for some of them to finish. */
  readonly #inflight = new Set<string>();
  #idleWaiters: { match: (key: string) => boolean; resolve: () => void }[] = [];

  constructor(opts: ControllerOptions) {
    const workers = opts.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer`);
    this.#opts = opts;
    this.name = opts.name;
    this.needLeaderElection = opts.needLeaderElection ?? true;
    this.queue =
      opts.queue ??
      newRateLimitingQueue<string>({
        name: opts.name,
        ...(opts.queueMetrics ? { metricsProvider: opts.queueMetrics } : {}),
      });
    this.#log = (opts.logger ?? silentLogger).child({ controller: opts.name });
  }

  /** Number of reconciles running now. */
  get activeReconciles(): number {
    return this.#active;
  }

  /** Resolves once no key matching `match` is being reconciled (keys admitted later are not waited for). */
  whenIdle(match: (key: string) => boolean): Promise<void> {
    if (![...this.#inflight].some(match)) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push({ match, resolve }));
  }

  #settled(key: string): void {
    this.#inflight.delete(key);
    if (this.#idleWaiters.length === 0) return;
    const still = [...this.#inflight];
    this.#idleWaiters = this.#idleWaiters.filter((w) => {
      if (still.some(w.match)) return true;
      w.resolve();
      return false;
    });
  }

  /** Whether every cache in `waitFor` has synced. */
  hasSynced(): boolean {
    return (this.#opts.waitFor ?? []).every((c) => c.hasSynced());
  }

  /** The Manager's entry point: {@link Controller.run}. */
  start(stop: AbortSignal, force: AbortSignal): Promise<void> {
    return this.run(stop, force);
  }

  /** Waits until every cache in `waitFor` has synced; false if `signal` aborted first. */
  async waitForCacheSync(signal: AbortSignal): Promise<boolean> {
    const caches = this.#opts.waitFor ?? [];
    const poll = this.#opts.syncPollMs ?? 100;
    while (!caches.every((c) => c.hasSynced())) {
      if (signal.aborted) return false;
      await pause(poll, signal);
    }
    return !signal.aborted;
  }

  /**
   * Waits for the caches, then runs the workers until `stop` aborts. After `stop`, no new key is taken;
   * reconciles in flight run to completion (or until `forceStop` aborts their signal), then `run`
   * resolves. The queue is shut down on return.
   */
  async run(stop: AbortSignal, forceStop?: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    const workers = this.#opts.workers ?? 1;
    this.#opts.metrics?.maxConcurrentReconciles.set({ controller: this.name }, workers);
    this.#opts.metrics?.activeWorkers.set({ controller: this.name }, 0);
    this.#log.info({ workers }, "waiting for caches to sync");
    if (!(await this.waitForCacheSync(stop))) {
      this.queue.shutDown();
      return;
    }
    this.#log.info({ workers }, "caches synced; starting workers");
    const hard = forceStop ?? new AbortController().signal;
    await Promise.all(Array.from({ length: workers }, () => this.#worker(stop, hard)));
    this.queue.shutDown();
    this.#log.info("workers stopped");
  }

  async #worker(stop: AbortSignal, hard: AbortSignal): Promise<void> {
    for (;;) {
      if (stop.aborted) return;
      let got: Awaited<ReturnType<RateLimitingQueue<string>["get"]>>;
      try {
        got = await this.queue.get(stop);
      } catch {
        return; // stop aborted while waiting
      }
      if (got.shutdown) return;
      await this.#process(got.item, hard);
    }
  }

  async #process(key: string, hard: AbortSignal): Promise<void> {
    if (this.#opts.shards && !this.#opts.shards.admit(key)) {
      // Another replica's bucket: it reconciles this key (and re-reads all of a bucket it acquires).
      this.queue.forget(key);
      this.queue.done(key);
      return;
    }
    this.#inflight.add(key);
    const reconcileId = randomUUID();
    const log = this.#log.child({ key, reconcileID: reconcileId });
    const timeoutMs = this.#opts.reconcileTimeoutMs ?? 0;
    const local = new AbortController();
    const onHard = () => local.abort(hard.reason);
    hard.addEventListener("abort", onHard, { once: true });
    if (hard.aborted) local.abort(hard.reason);
    const m = this.#opts.metrics;
    const labels = { controller: this.name };
    this.#active++;
    m?.activeWorkers.set(labels, this.#active);
    const started = performance.now();
    log.debug("reconciling");

    let timer: NodeJS.Timeout | undefined;
    const reconcile = Promise.resolve().then(() =>
      this.#opts.reconcile(key, { signal: local.signal, log, reconcileId }),
    );
    const outcome = await new Promise<{ ok: true; result: ReconcileOutput } | { ok: false; error: unknown }>(
      (resolve) => {
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            const err = new ReconcileTimeoutError(`reconcile of ${key} exceeded ${timeoutMs} ms`);
            local.abort(err);
            resolve({ ok: false, error: err });
          }, timeoutMs);
        }
        reconcile.then(
          (result) => resolve({ ok: true, result }),
          (error: unknown) => resolve({ ok: false, error }),
        );
      },
    );
    clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    m?.reconcileTime.observe(labels, seconds);

    let resultLabel: ReconcileResultLabel;
    const requeueWithBackoff = (): void => this.queue.addRateLimited(key);
    const terminal = !outcome.ok && outcome.error instanceof TerminalError;
    if (!outcome.ok) {
      resultLabel = "error";
      m?.reconcileErrors.inc(labels);
      if (terminal) m?.terminalReconcileErrors.inc(labels);
      if (outcome.error instanceof ReconcileTimeoutError) m?.reconcileTimeouts.inc(labels);
      log.error(
        { err: outcome.error, durationSeconds: seconds },
        terminal ? "reconcile failed with a terminal error; not retrying" : "reconcile failed; retrying with backoff",
      );
    } else {
      const result = outcome.result ?? {};
      if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        resultLabel = "requeue_after";
      } else if (result.requeue) {
        resultLabel = "requeue";
      } else {
        resultLabel = "success";
      }
      log.debug({ durationSeconds: seconds, result: resultLabel }, "reconciled");
    }
    m?.reconcileTotal.inc({ ...labels, result: resultLabel });

    const finish = () => {
      hard.removeEventListener("abort", onHard);
      if (terminal) {
        this.queue.forget(key);
      } else if (!outcome.ok) {
        requeueWithBackoff();
      } else {
        const result = outcome.result ?? {};
        if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, result.requeueAfterMs);
        } else if (result.requeue) {
          requeueWithBackoff();
        } else {
          this.queue.forget(key);
        }
      }
      this.queue.done(key);
      this.#settled(key);
    };

    this.#active--;
    m?.activeWorkers.set(labels, this.#active);
    if (outcome.ok || !(outcome.error instanceof ReconcileTimeoutError)) {
      finish();
      return;
    }
    // The reconcile overran its timeout and ignored the abort: free the worker now, but keep the key
    // "processing" until that promise settles, so the key is never reconciled twice at once.
    this.#overrunning.add(key);
    reconcile
      .catch(() => {})
      .finally(() => {
        this.#overrunning.delete(key);
        finish();
      });
  }
}

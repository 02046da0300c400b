// The Manager (controller-runtime's `manager.Manager`): owns the clients, the shared informer factory,
// the metrics, the event recorders and every Runnable (controllers among them), and runs them in the
// right order.
//
//   start:    probe + metrics servers → informers → always-on runnables → leader election
//             → leader-only runnables (controllers) once elected
//   shutdown: leader-only runnables stop taking work and drain (cut short when `force` aborts)
//             → event recorders flush → the Lease is released → always-on runnables → informers
//             → servers → clients
//
// Informers start before the election, as in controller-runtime: a standby replica keeps warm caches
// and takes over without a relist.
import { KubeClient } from "@minitask/client";
import { SharedInformerFactory, type SharedInformerFactoryOptions } from "@minitask/informers";
import { EventRecorder } from "./events.ts";
import { defaultIdentity, LeaderElector } from "./leaderelection.ts";
import { type Logger, silentLogger } from "./logging.ts";
import { createRuntimeMetrics, informerObserver, type RuntimeMetrics } from "./metrics.ts";
import { apiserverReviews, RequestAuthorizer, type RequestAuthorizerOptions } from "./metrics-auth.ts";
import { EndpointServer, type EndpointsOptions, type HealthCheck, parseBindAddress } from "./server.ts";
import { readServingCertificate, selfSignedCertificate } from "./serving-cert.ts";
import { ShardCoordinator } from "./sharding.ts";

/** Something the Manager runs: a controller, a server, a periodic job. */
export interface Runnable {
  /** Used in logs and for the runnable's health and readiness checks. */
  readonly name?: string;
  /**
   * Runs until `stop` aborts, then finishes the work in flight and resolves; `force` aborts when the
   * grace period is over. Rejecting (or resolving) before `stop` fails the Manager's liveness check.
   */
  start(stop: AbortSignal, force: AbortSignal): Promise<void>;
  /** Run only on the elected leader (when leader election is on). Default true. */
  readonly needLeaderElection?: boolean;
  /** Whether the runnable's caches have synced: becomes a readiness check named after the runnable. */
  hasSynced?(): boolean;
}

/** Leader election among replicas through a coordination.k8s.io Lease. */
export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
}

/** The Manager's clients, informers, servers and leader election. */
export interface ManagerOptions {
  /** The client for writes, events and the Lease. Default: loaded from `kubeconfig`/`context` (then owned and closed). */
  readonly client?: KubeClient;
  /**
   * The informers' client. Default: a second client loaded like `client` (its own connection pool: long
   * watches that share a pool with bursts of writes see their events delayed), or `client` when given.
   */
  readonly watchClient?: KubeClient;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Options of the shared informer factory (namespace, watch-list, reflector tuning …). */
  readonly informers?: Omit<SharedInformerFactoryOptions, "observer" | "logger">;
  readonly logger?: Logger;
  /** Default: `createRuntimeMetrics()`. */
  readonly metrics?: RuntimeMetrics;
  /** This replica's name in the Lease and in events. Default: hostname + random suffix. */
  readonly identity?: string;
  /** Off when undefined: every runnable runs at once. */
  readonly leaderElection?: LeaderElectionConfig | undefined;
  /** `/metrics` address, Go style (`:8080`, `127.0.0.1:0`); `"0"` or undefined: off. */
  readonly metricsBindAddress?: string | undefined;
  /** `/healthz` + `/readyz` address; the same as the metrics address: one server. Default off. */
  readonly healthProbeBindAddress?: string | undefined;
  /** Extra read-only JSON routes on the metrics server (debug views). */
  readonly debugRoutes?: Readonly<Record<string, () => unknown>>;
  /**
   * Serve /metrics (and the debug routes) over HTTPS to callers the apiserver authenticates and authorizes,
   * as controller-runtime's `SecureServing` with `WithAuthenticationAndAuthorization`. Off by default.
   */
  readonly metricsSecure?: boolean | SecureMetricsOptions;
  /**
   * Active-active replicas: the controllers' keys are shared among the replicas through bucket Leases (see
   * `sharding.ts`). Instead of leader election (setting both is an error); controllers built with
   * `controllerFor` reconcile only their replica's buckets.
   */
  readonly sharding?: ShardingConfig | undefined;
}

/** The shard group's Leases and timings (every replica must use the same `group` and `buckets`). */
export interface ShardingConfig {
  readonly group: string;
  readonly buckets: number;
  readonly namespace: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
}

/** How the secure metrics server gets its certificate and checks callers. */
export interface SecureMetricsOptions {
  /** A folder with `tls.crt` and `tls.key`. Default: a self-signed certificate made at start-up. */
  readonly certDir?: string | undefined;
  /** Check callers through TokenReview + SubjectAccessReview (verb `get` on the path). Default true. */
  readonly authorize?: boolean;
  /** Cache lifetimes of the reviews (defaults: 1 min for accepted, 10 s for refused). */
  readonly reviewCache?: RequestAuthorizerOptions;
}

/** Thrown by {@link Manager.start} when the leader lost its Lease: exit so that a fresh process campaigns again. */
export class LeaderElectionLostError extends Error {
  override readonly name = "LeaderElectionLostError";
}

interface Entry {
  readonly runnable: Runnable;
  readonly label: string;
  /** Set when it ended before being asked to stop. */
  failure?: string;
}

/**
 * Runs a process's controllers and other runnables with their informers, leader election, probes, metrics and
 * an ordered shutdown (see the file header for the order).
 */
export class Manager {
  readonly client: KubeClient;
  readonly watchClient: KubeClient;
  /** The shared informer factory: ask it for informers before `start` (the builder does). */
  readonly informers: SharedInformerFactory;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly identity: string;
  /** This replica's buckets, with `sharding`. */
  readonly shards: ShardCoordinator | undefined;
  readonly #o: ManagerOptions;
  readonly #owned: KubeClient[] = [];
  readonly #runnables: Entry[] = [];
  readonly #recorders: EventRecorder[] = [];
  readonly #servers: EndpointServer[] = [];
  readonly #readyChecks: Record<string, HealthCheck> = {};
  readonly #liveChecks: Record<string, HealthCheck> = {};
  #elector: LeaderElector | undefined;
  #started = false;
  #ports: { metrics: number | undefined; health: number | undefined } = { metrics: undefined, health: undefined };

  constructor(opts: ManagerOptions = {}) {
    this.#o = opts;
    this.metrics = opts.metrics ?? createRuntimeMetrics();
    this.logger = opts.logger ?? silentLogger;
    this.identity = opts.identity ?? defaultIdentity();
    const load = () => {
      const c = KubeClient.load({
        kubeconfig: opts.kubeconfig,
        context: opts.context,
        observer: this.metrics.restClient,
      });
      this.#owned.push(c);
      return c;
    };
    this.client = opts.client ?? load();
    this.watchClient = opts.watchClient ?? (opts.client ? opts.client : load());
    this.informers = new SharedInformerFactory(this.watchClient, {
      ...opts.informers,
      observer: informerObserver(this.metrics.informer),
      logger: this.logger.child({ component: "informers" }),
    });
    this.#liveChecks.ping = () => true;
    if (opts.sharding && opts.leaderElection) throw new Error("sharding and leader election are exclusive: choose one");
    this.shards = opts.sharding
      ? new ShardCoordinator({
          ...opts.sharding,
          client: this.client,
          identity: this.identity,
          logger: this.logger.child({ component: "sharding" }),
          metrics: this.metrics.sharding,
        })
      : undefined;
    if (this.shards) {
      const shards = this.shards;
      this.add(shards);
      this.#readyChecks.sharding = () => shards.isRunning() || "not running";
    }
  }

  /** Adds a runnable; it starts with the Manager. Runnables are added before `start` (after it, this throws). */
  add(runnable: Runnable): this {
    if (this.#started) throw new Error("Manager.add: the manager has already started");
    const label = runnable.name ?? `runnable-${this.#runnables.length + 1}`;
    const entry: Entry = { runnable, label };
    this.#runnables.push(entry);
    this.#liveChecks[label] = () => entry.failure ?? true;
    if (runnable.hasSynced) {
      const synced = runnable.hasSynced.bind(runnable);
      this.#readyChecks[label] = () => synced() || "caches not synced";
    }
    return this;
  }

  /** A readiness check on `/readyz` (`true` = ready, a string = why not). */
  addReadyCheck(name: string, check: HealthCheck): this {
    this.#readyChecks[name] = check;
    return this;
  }

  /** A liveness check on `/healthz`. */
  addHealthCheck(name: string, check: HealthCheck): this {
    this.#liveChecks[name] = check;
    return this;
  }

  /** An event recorder reporting as `reportingController` from this replica; flushed at shutdown. */
  eventRecorder(reportingController: string): EventRecorder {
    const r = new EventRecorder({
      client: this.client,
      reportingController,
      reportingInstance: this.identity,
      logger: this.logger,
    });
    this.#recorders.push(r);
    return r;
  }

  /** Whether this replica leads (always true without leader election, once started). */
  isLeader(): boolean {
    return this.#o.leaderElection ? (this.#elector?.isLeader() ?? false) : this.#started;
  }

  /** The bound ports of the metrics and probe servers (after `listen`). */
  get ports(): { readonly metrics: number | undefined; readonly health: number | undefined } {
    return this.#ports;
  }

  /**
   * Starts the metrics and probe servers and resolves with their ports. Called by `start`; call it first
   * to learn the ports (port 0) before the rest starts.
   */
  async listen(): Promise<{ readonly metrics: number | undefined; readonly health: number | undefined }> {
    if (this.#servers.length > 0) return this.#ports;
    const metricsAddr = parseBindAddress(this.#o.metricsBindAddress ?? "0");
    const healthAddr = parseBindAddress(this.#o.healthProbeBindAddress ?? "0");
    const registry = this.metrics.registry;
    const jsonRoutes = this.#o.debugRoutes;
    const health = { readyChecks: this.#readyChecks, liveChecks: this.#liveChecks };
    const shared = metricsAddr && healthAddr && metricsAddr.port === healthAddr.port && metricsAddr.port !== 0;
    const secure = metricsAddr ? await this.#secureServing(Boolean(shared)) : {};
    if (shared) {
      const s = new EndpointServer({ registry, ...health, ...(jsonRoutes ? { jsonRoutes } : {}) });
      this.#servers.push(s);
      const port = await s.listen(metricsAddr.host, metricsAddr.port);
      this.#ports = { metrics: port, health: port };
      return this.#ports;
    }
    if (metricsAddr) {
      const s = new EndpointServer({ registry, health: false, ...(jsonRoutes ? { jsonRoutes } : {}), ...secure });
      this.#servers.push(s);
      this.#ports = { ...this.#ports, metrics: await s.listen(metricsAddr.host, metricsAddr.port) };
    }
    if (healthAddr) {
      const s = new EndpointServer(health);
      this.#servers.push(s);
      this.#ports = { ...this.#ports, health: await s.listen(healthAddr.host, healthAddr.port) };
    }
    return this.#ports;
  }

  /** The certificate and the guard of a secure metrics server (nothing when plain). */
  async #secureServing(sharedWithProbes: boolean): Promise<Pick<EndpointsOptions, "tls" | "guard">> {
    const o = this.#o.metricsSecure;
    if (!o) return {};
    if (sharedWithProbes) {
      throw new Error("secure metrics need their own address: the health probes stay plain HTTP for the kubelet");
    }
    const opts: SecureMetricsOptions = o === true ? {} : o;
    const tls = opts.certDir ? readServingCertificate(opts.certDir) : await selfSignedCertificate();
    if (opts.authorize === false) return { tls };
    const authorizer = new RequestAuthorizer(apiserverReviews(this.client), opts.reviewCache);
    return { tls, guard: (authorization, path, verb) => authorizer.check(authorization, path, verb) };
  }

  /**
   * Runs everything until `stop` aborts (or leadership is lost), then shuts down in order and resolves.
   * `force` cuts the drain of in-flight work short (the end of the grace period). Rejects with
   * {@link LeaderElectionLostError} when the Lease was lost.
   */
  async start(stop: AbortSignal, force: AbortSignal = new AbortController().signal): Promise<void> {
    if (this.#started) throw new Error("Manager.start: already started");
    this.#started = true;
    const log = this.logger;
    const lost = new AbortController();
    const stopAll = AbortSignal.any([stop, lost.signal]);
    try {
      await this.listen();
      log.info(
        { metricsPort: this.#ports.metrics, healthPort: this.#ports.health },
        "serving metrics and health probes",
      );
      for (const key of this.informers.syncStatus().keys()) {
        this.#readyChecks[`informer ${key}`] = () => this.informers.syncStatus().get(key) === true || "not synced";
      }
      if (this.#o.leaderElection)
        this.#readyChecks["leader-election"] = () => this.#elector?.isRunning() || "not campaigning";
      this.informers.start();

      const always = this.#runnables.filter((e) => e.runnable.needLeaderElection === false);
      const leaderOnly = this.#runnables.filter((e) => e.runnable.needLeaderElection !== false);
      // Always-on runnables stop after the leader-only ones have drained.
      const alwaysStop = new AbortController();
      const alwaysDone = Promise.all(always.map((e) => this.#run(e, alwaysStop.signal, force)));
      try {
        const le = this.#o.leaderElection;
        if (le) {
          const elector = new LeaderElector({
            client: this.client,
            namespace: le.namespace,
            name: le.name,
            identity: this.identity,
            ...(le.leaseDurationMs !== undefined ? { leaseDurationMs: le.leaseDurationMs } : {}),
            ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
            ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
            logger: log,
            metric: this.metrics.leaderElection,
            onStartedLeading: async (leading) => {
              // Stop taking work the moment leadership ends (before the renew deadline has passed), and
              // cancel in-flight work too: never two active leaders. Flush events before the Lease goes.
              const leaderStop = AbortSignal.any([stop, leading]);
              await Promise.all(leaderOnly.map((e) => this.#run(e, leaderStop, AbortSignal.any([force, leading]))));
              await this.#flushEvents(force);
              if (leading.aborted && !stop.aborted) lost.abort();
            },
          });
          this.#elector = elector;
          await elector.run(stopAll);
        } else {
          const stopped = new Promise<void>((r) =>
            stop.aborted ? r() : stop.addEventListener("abort", () => r(), { once: true }),
          );
          await Promise.all([...leaderOnly.map((e) => this.#run(e, stop, force)), stopped]);
          await this.#flushEvents(force);
        }
      } finally {
        alwaysStop.abort();
        await alwaysDone;
      }
    } finally {
      await this.#shutdown(force);
    }
    if (lost.signal.aborted) throw new LeaderElectionLostError("leadership lost");
  }

  async #run(entry: Entry, stop: AbortSignal, force: AbortSignal): Promise<void> {
    try {
      await entry.runnable.start(stop, force);
      if (!stop.aborted) entry.failure = "ended before the manager stopped";
    } catch (err) {
      entry.failure = `failed: ${(err as Error).message}`;
      this.logger.error({ err, runnable: entry.label }, "runnable failed");
    }
  }

  async #flushEvents(force: AbortSignal): Promise<void> {
    // Bounded by the grace period: pending events are dropped when it runs out.
    await Promise.all(this.#recorders.map((r) => r.close(force)));
  }

  async #shutdown(force: AbortSignal): Promise<void> {
    await this.informers.shutdown();
    await this.#flushEvents(force);
    await Promise.all(this.#servers.map((s) => s.close()));
    await Promise.all(this.#owned.map((c) => c.close()));
    this.logger.info("stopped");
  }
}

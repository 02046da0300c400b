// One invocation: the terminal, the global flags, and (created on first use) the API client.
import type { KubeClient } from "@minitask/client";
import type { Api } from "./api.ts";
import type { ErrorContext } from "./errors.ts";
import type { Io } from "./term.ts";
import { Term } from "./term.ts";

/** The flags every command accepts (kubectl's names). */
export interface GlobalOptions {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly namespace?: string | undefined;
}

/**
 * The CLI retries less than a controller: a person is waiting. Connect failures get two more tries
 * within about a second; then the one-line error.
 */
const CLI_RETRY = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 1000 } as const;

export class Session implements AsyncDisposable {
  readonly term: Term;
  readonly io: Io;
  #opts: GlobalOptions = {};
  #api: Api | undefined;
  #injected: KubeClient | undefined;
  #errorContext: { server?: string; context?: string } = {};
  #modules: { client: typeof import("@minitask/client"); api: typeof import("./api.ts") } | undefined;

  constructor(io: Io) {
    this.io = io;
    this.term = new Term(io);
  }

  /** Sets the global flags (before the first API call). */
  configure(opts: GlobalOptions): void {
    this.#opts = opts;
  }

  get options(): GlobalOptions {
    return this.#opts;
  }

  /**
   * Loads the API client code (the Kubernetes client is heavy to import: commands that never talk to the
   * cluster skip it). Call before the first `api`.
   */
  async load(): Promise<void> {
    this.#modules ??= { client: await import("@minitask/client"), api: await import("./api.ts") };
  }

  /** The API of the chosen context and namespace; loads the kubeconfig on first use. */
  get api(): Api {
    if (this.#api !== undefined) return this.#api;
    if (this.#modules === undefined) throw new Error("Session.load() was not awaited");
    const { KubeClient, resolveKubeConfig } = this.#modules.client;
    const { Api } = this.#modules.api;
    if (this.#injected !== undefined) {
      this.#api = new Api(this.#injected, this.#opts.namespace || this.#injected.defaultNamespace);
      return this.#api;
    }
    const resolved = resolveKubeConfig({
      kubeconfig: this.#opts.kubeconfig,
      context: this.#opts.context,
      env: this.io.env,
      inCluster: "auto",
    });
    this.#errorContext = { server: resolved.server, context: resolved.context };
    const client = KubeClient.fromResolved(resolved, {
      retry: CLI_RETRY,
      onWarning: (w) => this.term.errLine(this.term.ce.yellow(`Warning: ${w}`)),
    });
    this.#api = new Api(client, this.#opts.namespace || client.defaultNamespace);
    return this.#api;
  }

  /** An API client for a fixed server (tests); replaces the kubeconfig. */
  useClient(client: KubeClient, server?: string): void {
    this.#injected = client;
    this.#errorContext = server === undefined ? {} : { server };
  }

  get namespace(): string {
    return this.api.namespace;
  }

  get errorContext(): ErrorContext {
    return this.#errorContext;
  }

  async close(): Promise<void> {
    this.term.done();
    const client = this.#api?.client ?? this.#injected;
    this.#api = undefined;
    this.#injected = undefined;
    if (client !== undefined) await client.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

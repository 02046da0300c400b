// kubectl-task: the kubectl plugin of Mini Task Runner. `main` parses the arguments with commander, runs
// one command and resolves with the exit code; it never calls process.exit (the entry point does).
import { Argument, Command, CommanderError, Option } from "commander";
import { versionLine } from "../cli/build-info.ts";
import type { Shell } from "./commands/completion.ts";
import type { DescribeOptions } from "./commands/describe.ts";
import type { ListFormat } from "./commands/list.ts";
import type { LogsOptions } from "./commands/logs.ts";
import type { DeleteOptions } from "./commands/manage.ts";
import type { RerunOptions } from "./commands/rerun.ts";
import type { StartOptions } from "./commands/start.ts";
import { CliError, ExitCode } from "./exit.ts";
import { type GlobalOptions, Session } from "./session.ts";
import type { Io } from "./term.ts";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const EXAMPLES = `
Examples:
  # Start a run of the task "hello" and follow it to the end (exit code 0 if it succeeds, 1 if it fails)
  kubectl task start hello -p name=world --follow

  # With a workspace and two retries; then the same again
  kubectl task start build -w source=emptyDir --retries 2
  kubectl task rerun --last build

  # Runs of the task "hello", newest first; all runs in every namespace
  kubectl task runs hello
  kubectl task runs -A

  # The logs of a run, step by step; keep following while it runs; the newest run's logs
  kubectl task logs hello-run-x7k2p -f
  kubectl task logs --last

  # Why did it fail?
  kubectl task describe hello-run-x7k2p

  # Stop a run; clean up finished runs, keeping the 5 newest
  kubectl task cancel hello-run-x7k2p
  kubectl task delete --keep 5

The namespace is the one of the kubeconfig context unless -n is given; KUBECONFIG is honoured as kubectl does.`;

function outputOption(choices: readonly string[]): Option {
  return new Option("-o, --output <format>", "output format").choices(choices);
}

const LAST = "use the newest run (with a TASK argument: the newest run of that task)";
const RUN_OR_TASK = "the TaskRun (with --last: a Task, whose newest run is used)";

export interface Program {
  readonly command: Command;
  /** The exit code of the action that ran. */
  exitCode(): number;
}

/** Builds the command tree; the actions run against `session`. */
export function buildProgram(session: Session): Program {
  let result: number = ExitCode.Ok;
  const io = session.io;
  const program = new Command("kubectl-task");
  program
    .name("kubectl task")
    .description("Start, follow and manage Mini Task Runner task runs (minitask.myorg.dev Task and TaskRun).")
    // Not commander's .version(string): the line (with the git commit) is only worked out when asked for.
    .option("--version", "print the version and the commit it was built from")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .option("--kubeconfig <path>", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use")
    .option("-n, --namespace <namespace>", "the namespace (default: the context's namespace)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, like every other error of the plugin.
      outputError: (s, write) => write(`${s.trim().replace(/\s*\n\s*/g, " ")} (see --help)\n`),
    })
    .addHelpText("after", EXAMPLES);
  program.on("option:version", () => {
    io.stdout.write(`${versionLine("kubectl-task")}\n`);
    throw new CommanderError(0, "commander.version", "version printed");
  });

  program.hook("preAction", async (_root, action) => {
    session.configure(action.optsWithGlobals<GlobalOptions>());
    // Every command but `completion` talks to the cluster: load the client now (it is slow to import).
    if (action.name() !== "completion") await session.load();
  });

  program
    .command("start")
    .description("start a run of a task; prints the run's name")
    .argument("<task>", "the Task to run")
    .option("-p, --param <NAME=VALUE>", "a parameter value (repeatable)", collect)
    .option(
      "-w, --workspace <NAME=SOURCE>",
      "bind a workspace: NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME (repeatable)",
      collect,
    )
    .option("--timeout <duration>", "how long the run may take, e.g. 90s, 10m, 1h30m (default 1h; 0 for none)")
    .option("--retries <N>", "run it again up to N times if it fails, each attempt in a new pod (0-100)")
    .option("--pod-template <file>", "pod settings from a YAML or JSON file (nodeSelector, tolerations, affinity, …)")
    .option("--service-account <name>", "the ServiceAccount the run's pod runs as")
    .option("-f, --follow", "follow the run: show steps and logs; exit 0 if it succeeds, 1 if it fails")
    .option("--dry-run", "check the task, params and workspaces, then print the TaskRun instead of creating it")
    .addOption(outputOption(["yaml", "json", "name"]))
    .addOption(new Option("--annotation <KEY=VALUE>", "annotation on the TaskRun (repeatable)").argParser(collect))
    .addOption(new Option("-l, --label <KEY=VALUE>", "label on the TaskRun (repeatable)").argParser(collect))
    .addHelpText(
      "after",
      `
Examples:
  kubectl task start hello
  kubectl task start build -p revision=main -p target=prod --timeout 20m -f
  kubectl task start build -w source=pvc:src -w config=configmap:build-cfg --retries 2
  kubectl task start build -p revision=main --pod-template pod.yaml --dry-run -o yaml > run.yaml`,
    )
    .action(async (task: string, o: StartOptions) => {
      const { start } = await import("./commands/start.ts");
      result = await start(session, task, o);
    });

  program
    .command("rerun")
    .description("start a new run like an earlier one: same task, params, workspaces, retries, timeout, pod template")
    .argument("[run]", RUN_OR_TASK)
    .option("-L, --last", LAST)
    .option("-f, --follow", "follow the new run: show steps and logs; exit 0 if it succeeds, 1 if it fails")
    .option("--dry-run", "check the task, then print the new TaskRun instead of creating it")
    .addOption(outputOption(["yaml", "json", "name"]))
    .addHelpText(
      "after",
      `
Examples:
  kubectl task rerun build-run-x7k2p
  kubectl task rerun --last build -f`,
    )
    .action(async (run: string | undefined, o: RerunOptions) => {
      const { rerun } = await import("./commands/rerun.ts");
      result = await rerun(session, run, o);
    });

  program
    .command("list")
    .alias("ls")
    .description("list tasks with their step count and params")
    .option("-A, --all-namespaces", "list tasks in every namespace")
    .option("-l, --selector <selector>", "label selector, e.g. team=ci")
    .addOption(outputOption(["wide", "json", "yaml", "name"]))
    .action(async (o: { allNamespaces?: boolean; selector?: string; output?: ListFormat }) => {
      const { listTasks } = await import("./commands/list.ts");
      result = await listTasks(session, o);
    });

  program
    .command("runs")
    .description("list task runs, newest first")
    .argument("[task]", "only runs of this task")
    .option("-A, --all-namespaces", "list runs in every namespace")
    .option("-l, --selector <selector>", "label selector, e.g. minitask.myorg.dev/task=hello")
    .addOption(outputOption(["wide", "json", "yaml", "name"]))
    .addHelpText(
      "after",
      `
Examples:
  kubectl task runs
  kubectl task runs hello -o wide
  kubectl task runs -A -o json`,
    )
    .action(
      async (task: string | undefined, o: { allNamespaces?: boolean; selector?: string; output?: ListFormat }) => {
        const { listRuns } = await import("./commands/list.ts");
        result = await listRuns(session, task, o);
      },
    );

  program
    .command("logs")
    .description("show the logs of a run's steps, in order")
    .argument("[run]", RUN_OR_TASK)
    .option("-L, --last", LAST)
    .option("-f, --follow", "keep streaming while the run goes on; exit 0 if it succeeds, 1 if it fails")
    .option("--step <name>", "only this step (printed without the [step] prefix)")
    .option("--sidecars", "also the sidecars' logs, after the steps' (prefixed [sidecar-NAME])")
    .option("--timestamps", "start each line with its RFC 3339 timestamp, as kubectl logs --timestamps")
    .addHelpText(
      "after",
      `
Examples:
  kubectl task logs hello-run-x7k2p
  kubectl task logs hello-run-x7k2p -f
  kubectl task logs hello-run-x7k2p --step build > build.log
  kubectl task logs --last hello --sidecars --timestamps`,
    )
    .action(async (run: string | undefined, o: LogsOptions) => {
      const { logs } = await import("./commands/logs.ts");
      result = await logs(session, run, o);
    });

  program
    .command("describe")
    .description("show a run: spec, params, workspaces, results, step states, sidecars, attempts and events")
    .argument("[run]", RUN_OR_TASK)
    .option("-L, --last", LAST)
    .addOption(outputOption(["yaml", "json", "name"]))
    .action(async (run: string | undefined, o: DescribeOptions) => {
      const { describe } = await import("./commands/describe.ts");
      result = await describe(session, run, o);
    });

  program
    .command("cancel")
    .description("cancel a run (its pod is stopped; the run fails with reason Cancelled)")
    .argument("[run]", RUN_OR_TASK)
    .option("-L, --last", LAST)
    .action(async (run: string | undefined, o: { last?: boolean }) => {
      const { cancel } = await import("./commands/manage.ts");
      result = await cancel(session, run, o);
    });

  program
    .command("delete")
    .alias("rm")
    .description("delete runs (their pods go with them)")
    .argument("[runs...]", "the TaskRuns")
    .option("--all-finished", "delete every run that has Succeeded or Failed")
    .option("--keep <N>", "delete finished runs but the N newest")
    .option("--older-than <duration>", "delete finished runs that ended longer ago than this, e.g. 30m, 24h, 168h")
    .option("--task <task>", "with --all-finished, --keep, --older-than: only runs of this task")
    .option("-l, --selector <selector>", "with --all-finished, --keep, --older-than: only runs matching it")
    .addHelpText(
      "after",
      `
Runs that are still going are never deleted by --all-finished, --keep or --older-than; with both --keep and
--older-than, a run is kept if either keeps it.

Examples:
  kubectl task delete hello-run-x7k2p hello-run-9qz4d
  kubectl task delete --all-finished --task hello
  kubectl task delete --keep 10 --older-than 24h`,
    )
    .action(async (runs: string[], o: DeleteOptions) => {
      const { deleteRuns } = await import("./commands/manage.ts");
      result = await deleteRuns(session, runs, o);
    });

  program
    .command("completion")
    .description("print a shell completion script")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(["bash", "zsh", "fish"]))
    .addHelpText(
      "after",
      `
Examples:
  source <(kubectl-task completion bash)        # bash, for kubectl-task …
  source <(kubectl-task completion zsh)         # zsh, after compinit
  kubectl-task completion fish | source         # fish (or save it in ~/.config/fish/completions/kubectl-task.fish)

For "kubectl task <TAB>" (kubectl 1.26 or later), put an executable named kubectl_complete-task on your PATH
that runs:  kubectl-task __complete "$@"`,
    )
    .action(async (shell: Shell) => {
      const { printCompletion } = await import("./commands/completion.ts");
      result = printCompletion(session, shell);
    });

  program
    .command("__complete", { hidden: true })
    .argument("[words...]")
    .allowUnknownOption()
    .helpOption(false)
    .action(async (words: string[]) => {
      const { complete } = await import("./commands/completion.ts");
      result = await complete(session, program, words.length === 0 ? [""] : words);
    });

  return { command: program, exitCode: () => result };
}

/** Runs the CLI with `argv` (the words after the program name); resolves with the exit code. */
export async function main(argv: readonly string[], io: Io, setup?: (session: Session) => void): Promise<number> {
  const session = new Session(io);
  setup?.(session);
  const { command: program, exitCode } = buildProgram(session);
  try {
    // __complete takes every following word as is (flags included).
    const args = argv[0] === "__complete" ? ["__complete", "--", ...argv.slice(1)] : [...argv];
    await program.parseAsync(args, { from: "user" });
    return exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end with exit code 0; usage errors were printed by commander already.
      return err.exitCode;
    }
    session.term.done();
    let line: string;
    if (err instanceof CliError) line = err.message.replace(/\s*\n\s*/g, " ");
    else {
      const { describeError } = await import("./errors.ts");
      line = describeError(err, session.errorContext);
    }
    session.term.errLine(`${session.term.ce.red("error:")} ${line}`);
    return err instanceof CliError ? err.exitCode : ExitCode.Failed;
  } finally {
    await session.close();
  }
}

// Shell completion. `completion bash|zsh|fish` prints a script that asks the hidden `__complete` command for
// candidates; `__complete` speaks cobra's protocol (candidates, then `:<directive>`), so the same
// command also serves kubectl's own plugin completion through a `kubectl_complete-task` executable.
import type { Command, Option } from "commander";
import { ExitCode } from "../exit.ts";
import type { Session } from "../session.ts";

/** cobra's ShellCompDirective bits. */
export const Directive = { Default: 0, NoSpace: 2, NoFileComp: 4 } as const;

const BASH = `# bash completion for kubectl-task                       -*- shell-script -*-
# Load it with:  source <(kubectl-task completion bash)
_kubectl_task() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive
  out=$(kubectl-task __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=\${out##*:}
  out=\${out%:*}
  [[ \${directive} =~ ^[0-9]+$ ]] || directive=0
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "\${out}" -- "\${cur}"))
  if (( directive & 2 )); then compopt -o nospace 2>/dev/null; fi
  if (( \${#COMPREPLY[@]} == 0 )) && ! (( directive & 4 )); then compopt -o default 2>/dev/null; fi
  return 0
}
complete -F _kubectl_task kubectl-task
`;

const ZSH = `#compdef kubectl-task
# zsh completion for kubectl-task
# Load it with:  source <(kubectl-task completion zsh)   (after compinit)
_kubectl_task() {
  local -a lines completions
  local directive
  lines=("\${(@f)$(kubectl-task __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  directive=\${lines[-1]#:}
  [[ \${directive} == <-> ]] || directive=0
  completions=("\${(@)lines[1,-2]}")
  completions=("\${(@)completions:#}")
  if (( \${#completions} )); then
    if (( directive & 2 )); then compadd -S '' -- "\${completions[@]}"; else compadd -- "\${completions[@]}"; fi
  elif (( ! (directive & 4) )); then
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_kubectl_task" ]]; then _kubectl_task "$@"; else compdef _kubectl_task kubectl-task; fi
`;

// fish: the words before the cursor (without the program) and the current token, quoted so that an empty one
// is still passed; no candidates and no NoFileComp bit (4) means file names, as cobra's fish script does.
const FISH = `# fish completion for kubectl-task
# Load it with:  kubectl-task completion fish | source
# (or save it as ~/.config/fish/completions/kubectl-task.fish)
function __kubectl_task_complete
    set -l args (commandline -opc)
    set -e args[1]
    set -l cur (commandline -ct)
    set -l out (kubectl-task __complete $args "$cur" 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 0
    set -e out[-1]
    if test (count $out) -gt 0
        printf '%s\n' $out
    else if test (math --scale 0 "floor($directive / 4) % 2") -eq 0
        __fish_complete_path "$cur"
    end
end
complete -c kubectl-task -f -a '(__kubectl_task_complete)'
`;

export type Shell = "bash" | "zsh" | "fish";
export const SHELLS: readonly Shell[] = ["bash", "zsh", "fish"];

export function completionScript(shell: Shell): string {
  return shell === "bash" ? BASH : shell === "zsh" ? ZSH : FISH;
}

export function printCompletion(session: Session, shell: Shell): number {
  session.term.out(completionScript(shell));
  return ExitCode.Ok;
}

function flagNames(o: Option): string[] {
  return [o.short, o.long].filter((f): f is string => typeof f === "string");
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

function visibleOptions(cmd: Command): Option[] {
  return cmd.options.filter((o) => !o.hidden);
}

/** The words after the program name, the last one being completed (maybe empty). */
export async function complete(session: Session, program: Command, words: readonly string[]): Promise<number> {
  const cur = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const globalOpts = visibleOptions(program);
  const commands = program.createHelp().visibleCommands(program);

  // Find the subcommand, the positional args so far, and a flag waiting for its value.
  let sub: Command | undefined;
  const positional: string[] = [];
  let pending: Option | undefined;
  const globals: Record<string, string> = {};
  for (const w of before) {
    if (pending !== undefined) {
      const long = pending.long ?? "";
      if (long === "--namespace" || long === "--context" || long === "--kubeconfig") globals[long.slice(2)] = w;
      pending = undefined;
      continue;
    }
    if (w.startsWith("-")) {
      const [flag, inline] = w.split("=", 2) as [string, string | undefined];
      const opt = [...globalOpts, ...(sub ? visibleOptions(sub) : [])].find((o) => flagNames(o).includes(flag));
      if (opt !== undefined && takesValue(opt) && inline === undefined) pending = opt;
      else if (opt !== undefined && inline !== undefined && opt.long !== undefined) globals[opt.long.slice(2)] = inline;
      continue;
    }
    if (sub === undefined) sub = commands.find((c) => c.name() === w || c.aliases().includes(w));
    else positional.push(w);
  }
  session.configure({ namespace: globals.namespace, context: globals.context, kubeconfig: globals.kubeconfig });

  const emit = (candidates: readonly string[], directive: number = Directive.NoFileComp): number => {
    const out = candidates.filter((c) => c.startsWith(cur));
    session.term.out(`${out.map((c) => `${c}\n`).join("")}:${directive}\n`);
    return ExitCode.Ok;
  };
  const quietly = async (f: () => Promise<string[]>): Promise<string[]> => {
    try {
      return await f();
    } catch {
      return [];
    }
  };
  const taskNames = () =>
    quietly(async () => (await session.api.tasks().list()).items.map((t) => t.metadata?.name ?? "").sort());
  const runNames = () =>
    quietly(async () => (await session.api.taskRuns().list()).items.map((t) => t.metadata?.name ?? "").sort());

  if (pending !== undefined) {
    const long = pending.long ?? "";
    // Flags that take a file: the shell completes file names.
    if (long === "--kubeconfig" || long === "--pod-template") return emit([], Directive.Default);
    if (long === "--namespace") {
      return emit(
        await quietly(async () =>
          (
            await session.api.client
              .resource({ group: "", version: "v1", resource: "namespaces", namespaced: false })
              .list()
          ).items.map((n) => n.metadata?.name ?? ""),
        ),
      );
    }
    if (long === "--output") return emit(pending.argChoices ?? []);
    if (long === "--step" && sub !== undefined && positional[0] !== undefined) {
      const run = positional[0];
      return emit(
        await quietly(async () => {
          const r = await session.api.taskRuns().get(run);
          const fromStatus = (r.status?.steps ?? []).map((s) => s.name);
          if (fromStatus.length > 0) return fromStatus;
          const t = await session.api.tasks().get(r.spec?.taskRef ?? "");
          return (t.spec?.steps ?? []).map((s) => s.name);
        }),
      );
    }
    if (long === "--workspace" && sub?.name() === "start" && positional[0] !== undefined) {
      const task = positional[0];
      const eq = cur.indexOf("=");
      if (eq > 0) {
        // After NAME=: the sources, in the words of -w.
        const name = cur.slice(0, eq);
        return emit(
          ["emptyDir", "pvc:", "configmap:", "secret:"].map((s) => `${name}=${s}`),
          Directive.NoFileComp | Directive.NoSpace,
        );
      }
      return emit(
        await quietly(async () =>
          ((await session.api.tasks().get(task)).spec?.workspaces ?? []).map((w) => `${w.name}=`),
        ),
        Directive.NoFileComp | Directive.NoSpace,
      );
    }
    if (long === "--task") return emit(await taskNames());
    if (long === "--param" && sub?.name() === "start" && positional[0] !== undefined) {
      const task = positional[0];
      return emit(
        await quietly(async () => ((await session.api.tasks().get(task)).spec?.params ?? []).map((p) => `${p.name}=`)),
        Directive.NoFileComp | Directive.NoSpace,
      );
    }
    if (pending.argChoices) return emit(pending.argChoices);
    return emit([]);
  }

  if (cur.startsWith("-")) {
    const opts = [...(sub ? visibleOptions(sub) : []), ...globalOpts];
    return emit(opts.flatMap((o) => (o.long ? [o.long] : [])).concat(["--help"]));
  }
  if (sub === undefined) return emit(commands.map((c) => c.name()));
  // With --last, the argument of logs, describe, cancel and rerun names a task.
  const last = before.includes("--last") || before.includes("-L");
  switch (sub.name()) {
    case "start":
      return positional.length === 0 ? emit(await taskNames()) : emit([]);
    case "runs":
      return positional.length === 0 ? emit(await taskNames()) : emit([]);
    case "logs":
    case "describe":
    case "cancel":
    case "rerun":
      if (positional.length > 0) return emit([]);
      return emit(last ? await taskNames() : await runNames());
    case "delete":
      return emit((await runNames()).filter((n) => !positional.includes(n)));
    case "completion":
      return positional.length === 0 ? emit(SHELLS) : emit([]);
    case "help":
      return emit(commands.map((c) => c.name()).filter((n) => n !== "help"));
    default:
      return emit([]);
  }
}

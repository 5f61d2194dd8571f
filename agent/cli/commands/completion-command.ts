import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliOutput } from '../output';

/** Every command path (`""`, `devices`, `devices pair`, …) with the words that may follow it. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const walk = (cmd: Command, path: string[]): void => {
    const words = [...cmd.commands.map((c) => c.name()), ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x)), '--help'];
    table.set(path.join(' '), [...new Set(words)]);
    for (const c of cmd.commands) walk(c, [...path, c.name()]);
  };
  walk(program, []);
  return table;
}

/** A bash completion script (zsh loads it through bashcompinit) generated from the commands themselves. */
export function bashCompletion(program: Command): string {
  const cases = [...completionTable(program)].map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`).join('\n');
  return `# edge-agent completion for bash (and zsh with bashcompinit). Install:
#   edge-agent completion bash | sudo tee /etc/bash_completion.d/edge-agent
_edge_agent() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w words=""
  COMPREPLY=()
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) if [ -n "$path" ]; then path="$path $w"; else path="$w"; fi ;; esac
  done
  # Past a command's arguments the deepest known path still applies.
  while :; do
    case "$path" in
${cases}
    *) if [ "$path" = "\${path% *}" ]; then path=""; else path="\${path% *}"; fi; continue ;;
    esac
    break
  done
  case "$cur" in -*|"") ;; *) [ -e "$cur" ] || [ -d "\${cur%/*}" ] && COMPREPLY=($(compgen -f -- "$cur")) ;; esac
  COMPREPLY+=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _edge_agent edge-agent
`;
}

export function completionCommand(shell: string | undefined, program: Command, io: CliOutput): number {
  const sh = shell ?? 'bash';
  if (sh !== 'bash' && sh !== 'zsh') throw new CliError(`completion for ${sh}: bash or zsh`, 2);
  io.out(sh === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bashCompletion(program)}` : bashCompletion(program));
  return 0;
}

import type { Command } from 'commander';
import type { CommandContext } from '../command-context';

export function registerCompletion(program: Command, { io, exit }: CommandContext): void {
  program
    .command('completion [shell]')
    .description('print a shell completion script (bash, or zsh through bashcompinit)')
    .addHelpText('after', '\nExamples:\n  edge-agent completion bash | sudo tee /etc/bash_completion.d/edge-agent\n  source <(edge-agent completion zsh)')
    .action(async (shell: string | undefined) => exit((await import('./completion-command')).completionCommand(shell, program, io)));
}

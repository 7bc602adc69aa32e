/**
 * `clusterdesk` — the command line. It shares the app's services, state engine and on-disk locks, so running it next
 * to the desktop app on the same workspace is safe.
 *
 * Start-up is kept to what a command needs: this entry and the command definitions load only commander and small
 * helpers; each command's action imports its domain (state engine, libvirt FFI, ssh2) when it runs, so `--version`,
 * `--help` and `state show` never load koffi, ssh2 or libvirt (checked by main/cli/startup.test.ts).
 */
import { Command } from 'commander';
import { version as APP_VERSION } from '../../package.json';
import { fedCommands } from '../cli/commands/fed';
import { hpcCommands } from '../cli/commands/hpc';
import { stateCommands } from '../cli/commands/state';
import { installSignalHandlers } from '../cli/signals';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('clusterdesk')
    .description('See and steer libvirt HPC clusters and federated-learning deployments through their state files.')
    .version(APP_VERSION, '-V, --version', 'print the version')
    .option('--json', 'print results as JSON (documented shapes in docs/cli.md)')
    .option('--data-dir <dir>', 'settings folder shared with the app (default: $CLUSTERDESK_DATA_DIR or ~/.config/Clusterdesk)')
    .showHelpAfterError()
    .exitOverride((err) => {
      // Usage errors exit 2 (documented); help and version exit 0.
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    });
  hpcCommands(program);
  fedCommands(program);
  stateCommands(program);
  return program;
}

installSignalHandlers();
await buildProgram().parseAsync(process.argv);

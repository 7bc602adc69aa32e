/**
 * `clusterdesk` — the command line. It shares the app's services, state engine and on-disk locks, so running it next
 * to the desktop app on the same workspace is safe.
 */
import { Command } from 'commander';
import { APP_VERSION } from '../compose';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('clusterdesk')
    .description('See and steer libvirt HPC clusters and federated-learning deployments through their state files.')
    .version(APP_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride((err) => {
      // Usage errors exit 2 (documented); help and version exit 0.
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    });
  return program;
}

await buildProgram().parseAsync(process.argv);

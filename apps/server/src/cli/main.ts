/**
 * The `thinkscope` command line (also `npx thinkscope` from the repo root).
 * Each subcommand registers itself; bad options fail with a clear message and
 * exit code 2 before any model is loaded.
 */
import { Command } from "commander";
import { registerDoctorCommand } from "./doctor-command.ts";
import { registerExperimentCommand } from "./experiment-command.ts";
import { registerRunCommand } from "./run-command.ts";

const program = new Command()
  .name("thinkscope")
  .description(
    'Watch reasoning models think, with s1 budget forcing: thinkscope run --num-waits 2 "What is 17*23?"',
  )
  .showHelpAfterError("(add --help for the options)")
  .exitOverride((error) => {
    // Usage errors exit 2, like other CLIs; --help and --version exit 0.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

registerRunCommand(program);
registerExperimentCommand(program);
registerDoctorCommand(program);

await program.parseAsync(process.argv);

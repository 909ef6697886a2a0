/**
 * `thinkscope doctor`: whether budget forcing can be token-exact on a model.
 * Loads the model's tokenizer and chat template through its backend (a
 * GGUF's own, or a server's `/tokenize` and template endpoints), matches the
 * model to a family, and prints the delimiter ids, how each wait string
 * tokenizes, whether the template opens the thinking and a dry run of a
 * forced close. Exit 0 when nothing would make budget forcing inexact, 1
 * with warnings (so a script can gate on it), 2 on bad options.
 */
import { InvalidArgumentError, type Command } from "commander";
import pc from "picocolors";
import {
  checkFamily,
  matchFamily,
  ThinkscopeError,
  type Backend,
  type FamilyCheck,
  type MatchedFamily,
  type ModelFacts,
} from "@thinkscope/core";
import { ConfigError, loadConfig } from "../config/config.ts";
import { openLocalServices } from "./local-services.ts";

interface DoctorOptions {
  backend?: string;
  model?: string;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description(
      "check that budget forcing is token-exact on a model: its family, delimiter ids, wait strings, template and a forced close (exit 1 on a warning)",
    )
    .option("--backend <spec>", "the backend to check (default: THINKSCOPE_BACKEND, else embedded)")
    .option("--model <name>", "the model to check (default: the backend's default model)")
    .action(async (options: DoctorOptions) => {
      process.exitCode = await doctorCommand(options);
    });
}

async function doctorCommand(options: DoctorOptions): Promise<number> {
  let services;
  try {
    const config = loadConfig({
      overrides: {
        ...(options.backend ? { backends: [options.backend] } : {}),
        ...(options.model ? { model: options.model } : {}),
      },
    });
    services = await openLocalServices(config);
  } catch (error) {
    if (
      error instanceof InvalidArgumentError ||
      error instanceof ConfigError ||
      ThinkscopeError.isInstance(error)
    ) {
      console.error(`thinkscope doctor: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    const { backend } = services.backends.default;
    const model = options.model;
    const matched = matchFamily(await modelFacts(backend, model));
    const { tokenize, applyChatTemplate } = backend;
    if (!backend.capabilities.tokenizer || !tokenize) {
      print(familyLine(matched));
      warn([
        `the ${backend.kind} backend has no tokenizer: budget forcing works on text and its counts are approximate`,
      ]);
      return 1;
    }
    const check = await checkFamily({
      profile: matched.profile,
      tokenize: (text, { special }) => tokenize.call(backend, text, { special, model }),
      renderTemplate: applyChatTemplate
        ? (messages) => applyChatTemplate.call(backend, messages, { model })
        : undefined,
    });
    print(report(matched, check));
    warn(check.warnings);
    return check.warnings.length > 0 ? 1 : 0;
  } catch (error) {
    if (ThinkscopeError.isInstance(error)) {
      console.error(`thinkscope doctor: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await services.close();
  }
}

/** Everything the backend can tell about the model, its name first. */
async function modelFacts(backend: Backend, model: string | undefined): Promise<ModelFacts> {
  const listed = model ? [] : (await backend.listModels()).map((m) => m.id).slice(0, 1);
  const own = backend.modelFacts ? await backend.modelFacts({ model }) : {};
  return { ...own, names: [model, ...listed, ...(own.names ?? [])] };
}

function familyLine(matched: MatchedFamily): string {
  const how =
    matched.matchedBy === "fallback" ? "nothing matched" : `matched by ${matched.matchedBy}`;
  return `family: ${matched.label} (${matched.family}, ${how})`;
}

function report(matched: MatchedFamily, check: FamilyCheck): string {
  const { profile } = matched;
  const ids = (list: readonly number[]) => `[${list.join(", ")}]`;
  const show = (text: string) => JSON.stringify(text);
  const lines = [
    familyLine(matched),
    `format: ${typeof profile.format === "string" ? profile.format : "custom"}`,
  ];
  for (const marker of check.endMarkers)
    lines.push(`end of thinking: ${show(marker.text)} -> ${ids(marker.ids)}`);
  for (const wait of check.waits) {
    const contexts = wait.contexts
      .map((c) => `after ${show(c.after)} ${ids(c.ids)}${c.clean ? "" : " MERGES"}`)
      .join(", ");
    lines.push(`wait ${show(wait.text)} -> ${ids(wait.ids)}; ${contexts}`);
  }
  if (check.template) {
    lines.push(
      `template opens the thinking: ${check.template.opensThinking ? "yes" : "no"} ` +
        `(${profile.label}: ${yesNo(profile.templateOpensThinking)}); prompt ends ${show(check.template.prompt.slice(-48))}`,
    );
  } else {
    lines.push("template: none (a family template is used)");
  }
  lines.push(
    `forced close after ${show(check.forcedClose.after)}: ${show(check.forcedClose.text)} -> ${ids(check.forcedClose.ids)}`,
  );
  return lines.join("\n");
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? "either" : value ? "yes" : "no";
}

function print(text: string): void {
  process.stdout.write(text + "\n");
}

function warn(warnings: readonly string[]): void {
  if (warnings.length === 0) {
    print(pc.green("no warnings: budget forcing is token-exact on this model"));
    return;
  }
  for (const warning of warnings) print(pc.yellow(`warning: ${warning}`));
}

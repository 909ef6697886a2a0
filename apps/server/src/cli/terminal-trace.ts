import pc from "picocolors";
import type { EngineEvent, InjectionEvent } from "@thinkscope/protocol";

/**
 * Prints a run live in the terminal: thinking dimmed, each injection as a
 * coloured tag (the page's colours: wait amber, forced close red, the
 * model's own close green), the answer in full contrast.
 */
export class TerminalTrace {
  constructor(private readonly out: NodeJS.WritableStream) {}

  write(event: EngineEvent): void {
    switch (event.type) {
      case "delta":
        this.out.write(event.phase === "thinking" ? pc.dim(event.text) : event.text);
        break;
      case "injection":
        this.out.write(tag(event));
        break;
      default:
        break;
    }
  }
}

function tag(event: InjectionEvent): string {
  const label = event.text.replace(/\n/g, "⏎");
  switch (event.kind) {
    case "wait":
      return pc.bold(pc.black(pc.bgYellow(` +${label} `)));
    case "forced_end":
      return pc.bold(pc.white(pc.bgRed(` ✂${label} `))) + "\n";
    case "end":
      return pc.bold(pc.black(pc.bgGreen(` ${label} `)));
    case "budget_message":
    case "elimination":
      return pc.bold(pc.black(pc.bgCyan(` ${label} `)));
  }
}

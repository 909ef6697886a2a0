import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { TraceView } from "../src/components/trace/trace-view.tsx";
import { useMarkHighlight } from "../src/lib/mark-highlight.ts";
import { describeInjection } from "../src/lib/injection-text.ts";
import type * as InjectionText from "../src/lib/injection-text.ts";

type InjectionTextModule = typeof InjectionText;
import { foldAll, foldEvents } from "../src/lib/trace-fold.ts";
import { EventScript, twoWaitRun } from "./fixtures.ts";

// Counts renders of injection marks: each render describes its mark once.
vi.mock("../src/lib/injection-text.ts", async (importOriginal) => {
  const actual = await importOriginal<InjectionTextModule>();
  return { ...actual, describeInjection: vi.fn(actual.describeInjection) };
});

describe("the trace view", () => {
  it("marks every injection with its kind, and the thinking and answer segments", async () => {
    const { container } = render(<TraceView trace={foldAll(twoWaitRun())} live={false} />);
    const marks = [...container.querySelectorAll("[data-injection]")];
    expect(marks.map((m) => m.getAttribute("data-injection"))).toEqual(["wait", "wait", "end"]);
    expect(container.querySelectorAll('[data-segment="thinking"]')).toHaveLength(3);
    const answer = container.querySelector('[data-segment="answer"]')!;
    expect(await within(answer as HTMLElement).findByText("3")).toBeInstanceOf(HTMLElement); // **3** rendered bold
    expect(answer.querySelector("strong")?.textContent).toBe("3");
  });

  it("explains each mark on hover and on focus: token index, time and why", () => {
    const events = new EventScript({ numWaits: 1, minThinkingTokens: 50, maxThinkingTokens: 40 })
      .think("abc", 3, 1500)
      .wait("Wait", "min_thinking_tokens")
      .think("defg", 4)
      .wait("Hmm", "num_waits")
      .think("h", 1)
      .close("forced_end").events;
    render(<TraceView trace={foldAll(events)} live />);
    const [first, second, forced] = screen.getAllByRole("mark");
    const tip = (mark: HTMLElement) => mark.getAttribute("data-tip") ?? "";
    expect(tip(first!)).toContain("At thinking token 3, 1.50 s into the run");
    expect(tip(first!)).toMatch(/below the minimum of 50/);
    expect(tip(second!)).toMatch(/wait 2 of num_waits = 1/);
    expect(tip(forced!)).toMatch(/budget of 40 tokens: the close was forced/);
    expect(forced!.getAttribute("data-label")).toBe("forced close");
    // The same text is available to keyboards (focusable, drawn by CSS) and screen readers.
    expect(forced!.tabIndex).toBe(0);
    expect(forced!.getAttribute("aria-label")).toMatch(
      /forced close: .*Final Answer:.*budget of 40/s,
    );
    // Pointing at a chip, or focusing it, marks it as the one the chart lights; leaving clears it.
    fireEvent.pointerEnter(second!);
    expect(useMarkHighlight.getState().mark?.text).toBe("Hmm");
    expect(second!.getAttribute("data-highlighted")).toBe("true");
    fireEvent.pointerLeave(second!);
    expect(useMarkHighlight.getState().mark).toBeNull();
    fireEvent.focus(forced!);
    expect(useMarkHighlight.getState().mark?.kind).toBe("forced_end");
    fireEvent.blur(forced!);
    expect(useMarkHighlight.getState().mark).toBeNull();
  });

  it("copies as exactly the text the model saw: labels are not in the text", () => {
    const { container } = render(<TraceView trace={foldAll(twoWaitRun())} live={false} />);
    const thinking = container.querySelector(".trace-thinking")!;
    expect(thinking.textContent).toBe(
      "Count the r's: r-a-s-p-b-e-r-r-y has 2.Wait Let me check again: 3.Wait Yes, 3.</think>",
    );
  });

  it("renders model output as text, never as HTML or script", async () => {
    const hostile = [
      "Answer: <script>window.__pwned = true</script>",
      "",
      '<img src="x" onerror="window.__pwned = true">',
      "",
      "[click](javascript:window.__pwned=true) and $\\href{javascript:alert(1)}{x}$",
    ].join("\n");
    const events = new EventScript()
      .think("<b>not bold</b><script>1</script>")
      .close("end")
      .say(hostile)
      .finish().events;
    const { container } = render(<TraceView trace={foldAll(events)} live={false} />);
    const answer = container.querySelector('[data-segment="answer"]') as HTMLElement;
    await within(answer).findByText(/click/);
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(answer.textContent).toContain("<script>window.__pwned = true</script>");
    expect(answer.textContent).toContain('<img src="x" onerror="window.__pwned = true">');
    for (const link of container.querySelectorAll("a"))
      expect(link.getAttribute("href") ?? "").not.toMatch(/javascript:/i);
    expect(container.querySelector(".trace-thinking")!.textContent).toContain(
      "<b>not bold</b><script>1</script>",
    );
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
  });

  it("renders math in the answer with KaTeX", async () => {
    const events = new EventScript()
      .think("x")
      .close("end")
      .say("So \\(x^2 = 4\\), and\n\n$$\\boxed{2}$$")
      .finish().events;
    const { container } = render(<TraceView trace={foldAll(events)} live={false} />);
    await screen.findAllByText((_, element) => element?.classList.contains("katex") ?? false);
    expect(container.querySelectorAll(".katex").length).toBeGreaterThanOrEqual(2);
    expect(container.querySelector(".katex-display")).not.toBeNull();
  });

  it("touches only the growing tail of the DOM when a batch arrives", async () => {
    const script = new EventScript({ numWaits: 1 });
    for (let i = 0; i < 200; i += 1) script.think(`token${i} `, 1, 5);
    script.wait();
    for (let i = 0; i < 200; i += 1) script.think(`more${i} `, 1, 5);
    const events = script.events;
    const before = foldAll(events.slice(0, -1));
    const { container, rerender } = render(<TraceView trace={before} live />);
    const thinking = container.querySelector(".trace-thinking")!;
    const firstSegmentText = container.querySelector('[data-segment="thinking"]')!.textContent;

    const changed = new Set<Node>();
    const observer = new MutationObserver((records) => {
      for (const record of records) changed.add(record.target);
    });
    observer.observe(thinking, { subtree: true, characterData: true, childList: true });
    await act(async () =>
      rerender(<TraceView trace={foldEvents(before, events.slice(-1))} live />),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    observer.disconnect();

    const segments = container.querySelectorAll('[data-segment="thinking"]');
    expect(segments[0]!.textContent).toBe(firstSegmentText);
    expect(changed.size).toBeGreaterThan(0);
    // Every change is inside the last segment: nothing before it was re-rendered.
    for (const node of changed) expect(segments[1]!.contains(node)).toBe(true);
  });

  it("does not re-render finished segments when the tail grows", () => {
    const events = new EventScript({ numWaits: 2 })
      .think("a")
      .wait()
      .think("b")
      .wait()
      .think("c")
      .think("d")
      .think("e").events;
    const head = foldAll(events.slice(0, -2));
    const describe = vi.mocked(describeInjection);
    describe.mockClear();
    const { rerender } = render(<TraceView trace={head} live />);
    expect(describe).toHaveBeenCalledTimes(2);
    describe.mockClear();
    const grown = foldEvents(head, events.slice(-2, -1));
    rerender(<TraceView trace={grown} live />);
    rerender(<TraceView trace={foldEvents(grown, events.slice(-1))} live />);
    expect(describe).not.toHaveBeenCalled();
    // A new mark renders once, and only it.
    rerender(
      <TraceView trace={foldEvents(grown, new EventScript().wait("Hmm").events.slice(1))} live />,
    );
    expect(describe).toHaveBeenCalledTimes(1);
  });

  it("draws the closed pieces of a line that never ends as inline blocks, without changing the text", () => {
    const script = new EventScript();
    const words = Array.from({ length: 4000 }, (_, i) => ` word${i % 10}`);
    for (const word of words) script.think(word, 1, 1);
    const { container } = render(<TraceView trace={foldAll(script.events)} live />);
    const pieces = container.querySelectorAll(".piece-block");
    expect(pieces.length).toBeGreaterThan(1);
    // Each piece ends after a space, so no word is drawn in two.
    for (const piece of pieces) expect(piece.textContent?.endsWith(" ")).toBe(true);
    expect(container.querySelectorAll(".line-block")).toHaveLength(0);
    expect(container.querySelector(".trace-thinking")!.textContent).toBe(words.join(""));
  });

  it("draws closed lines as block boxes without changing the text", () => {
    const script = new EventScript({ numWaits: 1 });
    for (let i = 0; i < 100; i += 1) script.think(`step ${i}: check the count again\n`, 8, 5);
    script.wait().think(" then more");
    const trace = foldAll(script.events);
    const { container } = render(<TraceView trace={trace} live />);
    const lineBlocks = container.querySelectorAll(".line-block");
    expect(lineBlocks.length).toBeGreaterThan(1);
    for (const block of lineBlocks) expect(block.textContent?.endsWith("\n")).toBe(true);
    expect(container.querySelector(".trace-thinking")!.textContent).toBe(
      Array.from({ length: 100 }, (_, i) => `step ${i}: check the count again\n`).join("") +
        "Wait then more",
    );
  });
});

/**
 * Splits a growing Markdown answer into blocks at blank lines, so each
 * finished block is parsed (Markdown + KaTeX) once and only the last one is
 * parsed again as tokens arrive. Blank lines inside code fences and `$$`
 * display math do not split.
 */
export function splitMarkdownBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  let inDisplayMath = false;
  for (const line of text.split("\n")) {
    const trimmed = line.trimStart();
    if (fence !== null) {
      if (trimmed.startsWith(fence)) fence = null;
    } else {
      const opening = /^(`{3,}|~{3,})/.exec(trimmed);
      if (opening) fence = opening[1] ?? null;
      else if (countDisplayDelimiters(line) % 2 === 1) inDisplayMath = !inDisplayMath;
    }
    if (line.trim() === "" && fence === null && !inDisplayMath) {
      if (current.length > 0) blocks.push(current.join("\n"));
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) blocks.push(current.join("\n"));
  return blocks;
}

function countDisplayDelimiters(line: string): number {
  return line.split("$$").length - 1;
}

/**
 * Reasoning models often write LaTeX as `\( ... \)` and `\[ ... \]`, and
 * display math as `$$ ... $$` on one line; remark-math reads `$ ... $` inline
 * and `$$` on lines of their own as display math. Code is left alone.
 */
export function normalizeMathDelimiters(block: string): string {
  if (/^\s*(`{3,}|~{3,})/.test(block)) return block;
  return block
    .replace(/\\\[([\s\S]+?)\\\]/g, (_match, body: string) => `\n$$\n${body.trim()}\n$$\n`)
    .replace(/\\\(([\s\S]+?)\\\)/g, (_match, body: string) => `$${body}$`)
    .replace(
      /^[ \t]*\$\$([^\n]+?)\$\$[ \t]*$/gm,
      (_match, body: string) => `$$\n${body.trim()}\n$$`,
    );
}

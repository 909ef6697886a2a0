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
  const delimited = block
    .replace(/\\\[([\s\S]+?)\\\]/g, (_match, body: string) => `\n$$\n${body.trim()}\n$$\n`)
    .replace(/\\\(([\s\S]+?)\\\)/g, (_match, body: string) => `$${body}$`)
    .replace(
      /^[ \t]*\$\$([^\n]+?)\$\$[ \t]*$/gm,
      (_match, body: string) => `$$\n${body.trim()}\n$$`,
    );
  return wrapBareLatex(delimited);
}

/**
 * Models write `\boxed{5355}` or `\frac{1}{2}` without any math delimiters;
 * remark-math would show them as raw text. A LaTeX command outside math and
 * code, with its brace groups, is wrapped in `$...$`. One whose braces are
 * not closed yet (the answer is still streaming) is left as it is.
 */
export function wrapBareLatex(block: string): string {
  let out = "";
  let inMath: "$" | "$$" | null = null;
  let inCode = false;
  let i = 0;
  while (i < block.length) {
    const char = block[i]!;
    if (char === "`" && inMath === null) {
      inCode = !inCode;
    } else if (!inCode && char === "$" && block[i - 1] !== "\\") {
      const delimiter = block.startsWith("$$", i) ? "$$" : "$";
      if (inMath === null) inMath = delimiter;
      else if (inMath === delimiter) inMath = null;
      out += delimiter;
      i += delimiter.length;
      continue;
    } else if (!inCode && inMath === null && char === "\\" && /[A-Za-z]/.test(block[i + 1] ?? "")) {
      const end = latexCommandEnd(block, i);
      if (end > 0) {
        out += `$${block.slice(i, end)}$`;
        i = end;
        continue;
      }
    }
    out += char;
    i += 1;
  }
  return out;
}

/** Where `\name{...}{...}` starting at `start` ends, or -1 when a brace group is not closed. */
function latexCommandEnd(text: string, start: number): number {
  let i = start + 1;
  while (/[A-Za-z]/.test(text[i] ?? "")) i += 1;
  while (text[i] === "{") {
    let depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === "{") depth += 1;
      else if (text[i] === "}" && --depth === 0) break;
    }
    if (depth !== 0) return -1;
    i += 1;
  }
  return i;
}

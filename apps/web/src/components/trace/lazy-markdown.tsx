import { lazy } from "react";
import { preloadWhenIdle } from "../../lib/preload-when-idle.ts";

// Markdown with KaTeX is the second largest dependency; it loads after the page, not with it.
const loadMarkdown = () => import("./markdown-block.tsx");

export const MarkdownBlock = lazy(loadMarkdown);

/**
 * Fetch the Markdown and KaTeX code and styles while the page is idle. When
 * they came with a run's first answer instead, compiling them took the main
 * thread at the end of the stream, and KaTeX's stylesheet (its font faces)
 * made the browser lay out the whole trace again: about 100 ms at 20,000
 * tokens.
 */
export function preloadMarkdown(): void {
  preloadWhenIdle(loadMarkdown);
}

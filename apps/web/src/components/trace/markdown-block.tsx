import { memo } from "react";
import Markdown, { type Components } from "react-markdown";
import rehypeKatex from "rehype-katex";
import remarkMath from "remark-math";
import "katex/dist/katex.min.css";
import { normalizeMathDelimiters } from "../../lib/markdown-blocks.ts";

/*
 * Model output is untrusted. react-markdown without rehype-raw turns raw HTML
 * into plain text and cleans URLs (no `javascript:`); KaTeX runs with
 * `trust: false`, so \href and \htmlData cannot add links or attributes.
 */
const remarkPlugins = [remarkMath];
const rehypePlugins: NonNullable<Parameters<typeof Markdown>[0]["rehypePlugins"]> = [
  [
    rehypeKatex,
    { throwOnError: false, trust: false, strict: "ignore", maxExpand: 200, maxSize: 20 },
  ],
];

const components: Components = {
  // Images in model output would load arbitrary URLs; show them as links instead.
  img: ({ src, alt }) =>
    typeof src === "string" && src !== "" ? (
      <a href={src} target="_blank" rel="noopener noreferrer nofollow">
        {alt || src}
      </a>
    ) : (
      <>{alt}</>
    ),
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
};

/** One Markdown block of an answer, with math. Loaded lazily: KaTeX is large. */
const MarkdownBlock = memo(function MarkdownBlock({ text }: { text: string }) {
  return (
    <Markdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
      {normalizeMathDelimiters(text)}
    </Markdown>
  );
});

export default MarkdownBlock;

import { memo, Suspense, useMemo } from "react";
import { MarkdownBlock } from "./lazy-markdown.tsx";
import { splitMarkdownBlocks } from "../../lib/markdown-blocks.ts";

/**
 * The answer as Markdown with math, block by block: a finished block keeps
 * its text, so its memoized renderer is skipped while the last block grows.
 * Until the Markdown chunk has loaded the text shows as plain text.
 */
export const AnswerView = memo(function AnswerView({ text }: { text: string }) {
  const blocks = useMemo(() => splitMarkdownBlocks(text), [text]);
  return (
    <Suspense fallback={<div className="plain">{text}</div>}>
      {blocks.map((block, index) => (
        <MarkdownBlock key={index} text={block} />
      ))}
    </Suspense>
  );
});

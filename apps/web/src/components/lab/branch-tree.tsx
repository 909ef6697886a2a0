import type { RunSummary } from "@thinkscope/protocol";
import { routeHref } from "../../lib/hash-route.ts";

interface Node {
  run: RunSummary;
  forks: Node[];
  resamples: RunSummary[];
}

/** The family as a tree: forks under their parent, a node's resamples folded into one line. */
function buildTree(runs: readonly RunSummary[]): Node[] {
  const nodes = new Map<string, Node>(
    runs.map((run) => [run.id, { run, forks: [], resamples: [] }]),
  );
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.run.parentRunId ? nodes.get(node.run.parentRunId) : undefined;
    if (!parent) roots.push(node);
    else if (node.run.resampleId) parent.resamples.push(node.run);
    else parent.forks.push(node);
  }
  return roots;
}

function insertOf(run: RunSummary): string | null {
  const segment = run.summary?.segments.find((s) => s.type === "insert");
  return segment ? segment.text : null;
}

/**
 * A run's family: its root, every fork (with where it branched and what it
 * inserted), each node's answer and tokens. Two picked nodes can be compared.
 */
export function BranchTree({
  runs,
  current,
  picked,
  onToggle,
}: {
  runs: readonly RunSummary[];
  current: string;
  picked: readonly string[];
  onToggle(id: string): void;
}) {
  const renderNode = (node: Node) => {
    const { run } = node;
    const insert = insertOf(run);
    return (
      <li key={run.id} data-run-id={run.id}>
        <div className="branch-node" data-current={run.id === current || undefined}>
          <input
            type="checkbox"
            aria-label={`Pick ${run.id} to compare`}
            checked={picked.includes(run.id)}
            onChange={() => onToggle(run.id)}
          />
          <a href={routeHref({ tab: "library", runId: run.id })}>
            {run.parentRunId ? `fork @${run.forkAt ?? "?"}` : "root"}
          </a>
          {insert !== null && <span className="branch-insert">+“{insert}”</span>}
          <span className="branch-answer" title="Answer">
            {run.answer.trim().slice(0, 60) || "—"}
          </span>
          <span className="hint">
            {run.summary?.thinking_tokens ?? 0} thinking · {run.summary?.answer_tokens ?? 0} answer
            tokens · {run.status}
          </span>
        </div>
        {node.resamples.length > 0 && (
          <details className="branch-resamples">
            <summary>{node.resamples.length} resamples</summary>
            <ul>
              {node.resamples.map((sample) => (
                <li key={sample.id}>
                  <a href={routeHref({ tab: "library", runId: sample.id })}>@{sample.forkAt}</a>{" "}
                  {sample.answer.trim().slice(0, 40) || "—"}
                </li>
              ))}
            </ul>
          </details>
        )}
        {node.forks.length > 0 && <ul>{node.forks.map(renderNode)}</ul>}
      </li>
    );
  };
  return (
    <ul className="branch-tree" aria-label="Branches">
      {buildTree(runs).map(renderNode)}
    </ul>
  );
}

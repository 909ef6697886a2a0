/**
 * The two scaling strategies' colours (experiments.css defines them per
 * theme): full contrast for budget forcing, a muted neutral for majority
 * vote, told apart also by marker and dash. Settings use the compare view's
 * run palette; injections keep amber, red and green.
 */
export const SEQUENTIAL_COLOR = "var(--sequential-line)";
export const PARALLEL_COLOR = "var(--parallel-line)";

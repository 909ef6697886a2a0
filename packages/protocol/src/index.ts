/**
 * Every wire shape of Thinkscope, defined once: TypeBox schemas that the
 * server validates with, and the types derived from them that the engine,
 * the backends, the server and the page use. This package depends on
 * TypeBox only; everything else of ours depends on it. One module per shape:
 *
 * - budget: budget forcing and sampling settings, defaults, rules, fitting to a context;
 * - backends: a backend's kind, capabilities and readiness;
 * - families: model families' profiles and which one a model matched;
 * - events: the engine's event stream and the run's summary;
 * - runs: starting a run, stored runs;
 * - socket: the page's WebSocket messages;
 * - experiments: experiments, their progress and results;
 * - errors: the error body;
 * - steps: the thinking split into sentences, paragraphs and steps;
 * - resample: resample analyses of a run (where its answer is decided).
 */
export * from "./budget.ts";
export * from "./backends.ts";
export * from "./families.ts";
export * from "./events.ts";
export * from "./runs.ts";
export * from "./socket.ts";
export * from "./experiments.ts";
export * from "./errors.ts";
export * from "./event-log.ts";
export * from "./steps.ts";
export * from "./resample.ts";

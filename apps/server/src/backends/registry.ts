/**
 * The configured backends by id, the first one the default. Everything that
 * picks a backend for a request (a WebSocket spec's `backend`, an OpenAI
 * request's `model`) goes through here, so an unknown one is one clear 4xx.
 */
import {
  InvalidRequestError,
  matchFamily,
  ThinkscopeError,
  type Backend,
  type ModelFacts,
  type ModelInfo,
} from "@thinkscope/core";
import type { BackendInfo, BackendReadiness, FamilyMatch } from "@thinkscope/protocol";

export interface RegisteredBackend {
  /** Defaults to `backend.id`; a repeated id gets a `-2`, `-3`... suffix. */
  id?: string;
  backend: Backend;
}

export interface BackendEntry {
  id: string;
  backend: Backend;
  isDefault: boolean;
}

export interface ResolvedModel {
  entry: BackendEntry;
  /** The model name to send upstream; undefined means the backend's default. */
  model: string | undefined;
  /** True when `model` named the backend (`id/model` or `id`) and must be rewritten before forwarding. */
  aliased: boolean;
}

export type StatusListener = (backendId: string, readiness: BackendReadiness) => void;

interface Watcher {
  listener: StatusListener;
  /** The readiness this listener was last told of, per backend (JSON). */
  seen: Map<string, string>;
  /** Its first report is done; polls compare against it from then on. */
  started: boolean;
}

/** The `model` that names the default backend's own model. */
export const DEFAULT_MODEL_NAME = "default";

const MODELS_TTL_MS = 30_000;
const MODELS_TIMEOUT_MS = 3_000;
const STATUS_POLL_MS = 2_000;

export class BackendRegistry {
  private readonly entries: BackendEntry[];
  private readonly modelCache = new Map<string, { at: number; models: ModelInfo[] | null }>();
  private readonly watchers = new Set<Watcher>();
  private poller: NodeJS.Timeout | null = null;

  /**
   * `scrub` cleans readiness messages before anyone reads them (the server's
   * hides upstream addresses; the CLI shows them).
   */
  constructor(
    backends: readonly RegisteredBackend[],
    private readonly options: { scrub?: (text: string) => string } = {},
  ) {
    if (backends.length === 0) throw new Error("At least one backend is needed.");
    const seen = new Set<string>();
    this.entries = backends.map(({ id, backend }, index) => {
      const base = id ?? backend.id;
      let unique = base;
      for (let n = 2; seen.has(unique); n++) unique = `${base}-${n}`;
      seen.add(unique);
      return { id: unique, backend, isDefault: index === 0 };
    });
  }

  get default(): BackendEntry {
    return this.entries[0]!;
  }

  list(): readonly BackendEntry[] {
    return this.entries;
  }

  /** The backend with this id, or the default when none is given. */
  get(id?: string): BackendEntry {
    if (id === undefined || id === "") return this.default;
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) {
      throw new InvalidRequestError(
        "unknown_backend",
        `Unknown backend "${id}". Configured backends: ${this.entries.map((e) => e.id).join(", ")}.`,
      );
    }
    return entry;
  }

  /** The backend's models, cached for 30 s; null when the backend could not list them. */
  async models(entry: BackendEntry): Promise<ModelInfo[] | null> {
    const cached = this.modelCache.get(entry.id);
    if (cached && Date.now() - cached.at < MODELS_TTL_MS) return cached.models;
    let models: ModelInfo[] | null;
    try {
      models = await entry.backend.listModels(AbortSignal.timeout(MODELS_TIMEOUT_MS));
    } catch {
      models = null;
    }
    // A failed listing is retried soon rather than cached for the full TTL.
    this.modelCache.set(entry.id, {
      at: models ? Date.now() : Date.now() - MODELS_TTL_MS + 2_000,
      models,
    });
    return models;
  }

  /**
   * Picks the backend and model for an OpenAI-style `model` field: a model one
   * of the backends lists (the default backend first), `backendId/model`, a
   * backend id alone, or `default` (the default backend's model, for examples
   * and clients that must name one). An unknown name is a 404
   * `model_not_found`, unless a backend could not list its models: then the
   * default backend gets the name as given and the upstream decides.
   */
  async resolveModel(model: string | undefined): Promise<ResolvedModel> {
    if (model === undefined || model === "")
      return { entry: this.default, model: undefined, aliased: false };
    let listingFailed = false;
    for (const entry of this.entries) {
      const models = await this.models(entry);
      if (models === null) listingFailed = true;
      if (models?.some((m) => m.id === model)) return { entry, model, aliased: false };
    }
    const slash = model.indexOf("/");
    if (slash > 0) {
      const entry = this.entries.find((e) => e.id === model.slice(0, slash));
      if (entry) return { entry, model: model.slice(slash + 1) || undefined, aliased: true };
    }
    const byId = this.entries.find((e) => e.id === model);
    if (byId) return { entry: byId, model: undefined, aliased: true };
    // After the listed names and ids, so a model or backend really called "default" wins.
    if (model === DEFAULT_MODEL_NAME)
      return { entry: this.default, model: undefined, aliased: true };
    if (listingFailed) return { entry: this.default, model, aliased: false };
    const known = (await Promise.all(this.entries.map(async (e) => (await this.models(e)) ?? [])))
      .flat()
      .map((m) => m.id);
    throw new ThinkscopeError(
      "model_not_found",
      `The model "${model}" is not served here. Available: ${known.join(", ") || "none"}.`,
      { status: 404, param: "model" },
    );
  }

  /** What `/api/backends` shows: never a URL or a key. */
  async info(): Promise<BackendInfo[]> {
    return Promise.all(
      this.entries.map(async (entry) => {
        const models = ((await this.models(entry)) ?? []).map((m) => m.id);
        const readiness = await this.readiness(entry);
        return {
          id: entry.id,
          kind: entry.backend.kind,
          models,
          default: entry.isDefault,
          capabilities: entry.backend.capabilities,
          readiness,
          family: await this.family(entry, models, readiness),
        };
      }),
    );
  }

  /**
   * The family budget forcing follows for the backend's default model: from
   * what the model says of itself once it is ready (a GGUF's metadata and
   * template), else from its name. Never loads a model, never throws.
   */
  private async family(
    entry: BackendEntry,
    models: readonly string[],
    readiness: BackendReadiness,
  ): Promise<FamilyMatch> {
    let facts: ModelFacts = { names: models.slice(0, 1) };
    if (readiness.state === "ready" && entry.backend.modelFacts) {
      facts = await entry.backend.modelFacts({}).catch(() => facts);
    }
    const { family, label, matchedBy } = matchFamily(facts);
    return { family, label, matchedBy };
  }

  /** Readiness that never throws, even from an adapter that does; its message scrubbed. */
  async readiness(entry: BackendEntry): Promise<BackendReadiness> {
    let readiness: BackendReadiness;
    try {
      readiness = await entry.backend.readiness();
    } catch (error) {
      const message = ThinkscopeError.isInstance(error)
        ? error.message
        : "The backend did not answer.";
      readiness = { state: "unavailable", message };
    }
    const { scrub } = this.options;
    if (scrub && readiness.state !== "ready") {
      return { ...readiness, message: scrub(readiness.message) };
    }
    return readiness;
  }

  /**
   * Tells `listener` which backends are not ready yet (a model downloading or
   * loading), then every change of any backend's readiness. Polls only while
   * someone listens. Returns the function that stops listening.
   */
  onStatus(listener: StatusListener): () => void {
    const watcher: Watcher = { listener, seen: new Map(), started: false };
    this.watchers.add(watcher);
    void this.states().then((states) => {
      for (const [id, readiness] of states) {
        watcher.seen.set(id, JSON.stringify(readiness));
        if (readiness.state !== "ready" && this.watchers.has(watcher)) listener(id, readiness);
      }
      watcher.started = true;
    });
    if (this.poller === null) {
      this.poller = setInterval(() => void this.poll(), STATUS_POLL_MS);
      this.poller.unref();
    }
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0 && this.poller !== null) {
        clearInterval(this.poller);
        this.poller = null;
      }
    };
  }

  async close(): Promise<void> {
    if (this.poller !== null) clearInterval(this.poller);
    this.poller = null;
    this.watchers.clear();
    await Promise.allSettled(this.entries.map((e) => e.backend.close()));
  }

  private async states(): Promise<Array<[string, BackendReadiness]>> {
    return Promise.all(
      this.entries.map(
        async (entry) => [entry.id, await this.readiness(entry)] as [string, BackendReadiness],
      ),
    );
  }

  private async poll(): Promise<void> {
    const states = await this.states();
    for (const watcher of this.watchers) {
      if (!watcher.started) continue;
      for (const [id, readiness] of states) {
        const key = JSON.stringify(readiness);
        if (watcher.seen.get(id) === key) continue;
        watcher.seen.set(id, key);
        watcher.listener(id, readiness);
      }
    }
  }
}

import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./browser.ts";
import { startServerProcess, type ServerProcess } from "./server-process.ts";
import { e2eModels } from "./test-models.ts";
import { ensureWebBuild } from "./web-build.ts";

/** Backend ids the server gives the two models (the registry suffixes a repeated id). */
export const COUNTING_BACKEND = "embedded";
export const LOOPING_BACKEND = "embedded-2";

export interface Thinkscope {
  /** The server's base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** A fresh page (own browser context) for the current test. */
  readonly page: Page;
  /** Uncaught exceptions the page threw, and anything the page's security policy blocked, during the current test. */
  readonly pageErrors: readonly string[];
}

/**
 * Registers the hooks one e2e file needs: build the page if stale, start the
 * real server on the generated test models (counting model as the default
 * backend, looping model second), launch Chromium; a fresh browser context
 * per test. Everything is stopped in afterAll.
 */
export function setupThinkscope(name: string): Thinkscope {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    const models = await e2eModels();
    [server, browser] = await Promise.all([
      startServerProcess({
        name,
        backends: [`embedded:${models.counting}`, `embedded:${models.looping}`],
      }),
      launchChromium(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    pageErrors.length = 0;
    context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    // The server's Content-Security-Policy must never block the page's own code, styles or fonts.
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) pageErrors.push(message.text());
    });
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
    page = undefined;
  });

  return {
    get url() {
      if (!server) throw new Error("The server is not running (beforeAll failed?).");
      return server.url;
    },
    get page() {
      if (!page) throw new Error("No page: use it inside a test.");
      return page;
    },
    get pageErrors() {
      return pageErrors;
    },
  };
}

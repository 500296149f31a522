// SPDX-License-Identifier: MIT
// Test helpers for browser tests: Debian's headless Chromium driven by playwright-core (never a
// downloaded browser), and a static file server on 127.0.0.1 (the machine's network is loopback only).

import { createServer, Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { chromium, BrowserContext } from "playwright-core";

/** The system Chromium (apt-get install -y chromium); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether browser tests run: true with Chromium; without it they skip locally (reason printed)
 * and fail in CI ($CI set), where .ci/run must have installed it.
 */
export function browserTestsEnabled(what: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI) return true; // run, and fail in launchChromium with the reason
  console.log(`${what}: skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return false;
}

// Without the background-networking flags Chromium keeps trying hosts the closed network refuses.
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

export interface Chromium { context: BrowserContext; close(): Promise<void> }

/** Headless Chromium with a fresh profile directory (launch() refuses --user-data-dir). */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: CI must install it (.ci/run runs apt-get install -y chromium when tests/web/needs-chromium exists)`);
  }
  const profile = mkdtempSync(join(tmpdir(), "guestmem-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
};

export interface StaticServer { url: string; close(): Promise<void> }

/** Serves the files of `dir` on 127.0.0.1 at a random free port. */
export async function serveDir(dir: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? "/").split("?")[0])).replace(/^(\.\.[/\\])+/, "");
    const path = join(dir, rel === "/" ? "index.html" : rel);
    if (!path.startsWith(dir) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("serveDir: no TCP address");
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

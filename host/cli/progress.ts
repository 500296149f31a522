// SPDX-License-Identifier: MIT
// Progress of long runs in simulated seconds, on stderr, only when stderr is a terminal (pipes,
// CI logs and tests get no control characters).

import cliProgress from "cli-progress";
import type { CliIo } from "./io.js";

export interface Progress { update(simS: number, endS: number | null): void; stop(): void }

const NO_PROGRESS: Progress = { update: () => {}, stop: () => {} };

export function startProgress(io: CliIo, label: string, enabled: boolean): Progress {
  if (!enabled || !io.errIsTTY || !io.progressStream) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} simulated s`,
    stream: io.progressStream,
    hideCursor: true,
    clearOnComplete: true,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(simS, endS) {
      const total = Math.max(1, Math.round(endS ?? simS + 1));
      if (!started) { bar.start(total, 0); started = true; }
      bar.setTotal(total);
      bar.update(Math.round(simS));
    },
    stop() { if (started) bar.stop(); },
  };
}

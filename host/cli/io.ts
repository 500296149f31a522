// SPDX-License-Identifier: MIT
// What the CLI writes to: injectable so tests call main() with captured output.

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress bars only then. */
  errIsTTY: boolean;
  /** The stream progress bars draw on (process.stderr in the real CLI). */
  progressStream?: NodeJS.WritableStream;
}

export function processIo(): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    errIsTTY: Boolean(process.stderr.isTTY),
    progressStream: process.stderr,
  };
}

/** Bad command-line input (exit code 2), like ScenarioError for arguments. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

// SPDX-License-Identifier: MIT
// Which guest file each file step of a VM's script uses: the guest has a fixed file table
// (NR_FILES in assembly/abi.ts), so file ids are planned once per script and a script that
// needs more is a scenario error at resolve time, never a failure mid-run.
// Model: file.read/file.write name their file (absent: one default file); a build reads its
// sources from BUILD_SOURCE_FILES files and writes its objects into BUILD_OBJECT_FILES files.

import * as abi from "../guest/abi.generated.js";
import type { ScenarioIssue } from "./errors.js";
import type { ScriptStep } from "./resolve.js";

/** Source files a build's units read (unit k reads file k mod 8): spreads the source cache over files. */
export const BUILD_SOURCE_FILES = 8;
/** Files a build's units write their objects into (unit k writes file k mod 4). */
export const BUILD_OBJECT_FILES = 4;
/** The file of a file.read/file.write step without `file`. */
const DEFAULT_FILE = "(default)";

export interface GuestFiles {
  /** Guest file of each file.* name. */
  files: Map<string, number>;
  sourceFiles: number[];
  objectFiles: number[];
}

/** The guest file a file.read/file.write step uses. */
export function fileOf(ids: GuestFiles, name: string | undefined): number {
  const f = ids.files.get(name ?? DEFAULT_FILE);
  if (f === undefined) throw new Error(`file ${name ?? DEFAULT_FILE} was not planned`); // planGuestFiles saw every step
  return f;
}

/** Plans `steps`' guest files; `issues` names the step fields that exceed the guest's file table. */
export function planGuestFiles(vm: string, steps: readonly ScriptStep[]): { ids: GuestFiles; issues: ScenarioIssue[] } {
  let nextFile = 0;
  const build = steps.flatMap((s) => (s.action.do === "build" ? [s.action.build] : []));
  const sourceFiles = build.some((b) => (b.unitRead ?? 0) > 0) ? Array.from({ length: BUILD_SOURCE_FILES }, () => nextFile++) : [];
  const objectFiles = build.some((b) => (b.unitWrite ?? 0) > 0) ? Array.from({ length: BUILD_OBJECT_FILES }, () => nextFile++) : [];
  const files = new Map<string, number>();
  const issues: ScenarioIssue[] = [];
  for (const s of steps) {
    if (s.action.do !== "file.read" && s.action.do !== "file.write") continue;
    const name = s.action.file ?? DEFAULT_FILE;
    if (files.has(name)) continue;
    if (nextFile >= abi.NR_FILES) {
      issues.push({ path: `timeline[${s.index}].file`, value: s.action.file,
        expected: `at most ${abi.NR_FILES - sourceFiles.length - objectFiles.length} distinct files in VM ${vm} (the guest has ${abi.NR_FILES} files, ${sourceFiles.length + objectFiles.length} used by builds)` });
      continue;
    }
    files.set(name, nextFile++);
  }
  return { ids: { files, sourceFiles, objectFiles }, issues };
}

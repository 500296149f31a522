// SPDX-License-Identifier: MIT
// Scenarios as a library (re-exports only): parse and validate a scenario file's text, apply a
// mode, run it on the model engine (or any Engine), read its series and summary.

export { parseScenario } from "./load.js";
export { ScenarioError, formatPath } from "./errors.js";
export type { ScenarioIssue } from "./errors.js";
export { ScenarioSchema, scenarioJsonSchema, BUILTIN_MODES, LATER_MODES, ACTION_KINDS } from "./schema.js";
export type { Scenario, ScenarioInput, Action, ActionKind, BuiltinMode, ModeRef, CustomMode } from "./schema.js";
export { resolveScenario, modeNames, defaultModes, referencedFiles, AS_WRITTEN } from "./resolve.js";
export type { ResolvedScenario, ResolvedVm, ResolvedBalloon, ResolvedMode, ScriptStep } from "./resolve.js";
export { parseSize, parseTime, parseRate, formatBytes } from "./units.js";
export { NotSupportedError, HOST_COLUMNS, VM_COLUMNS, column as seriesColumn } from "./engine.js";
export type { Engine, RunOptions, RunResult, RunSummary, RunEvent, Series, VmSummary, QueryMigrate } from "./engine.js";
export { modelEngine, unsupportedReason } from "./runner.js";
export { parseDemandTrace } from "./replay.js";
export type { DemandTrace } from "./replay.js";

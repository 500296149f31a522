// SPDX-License-Identifier: MIT
// Boot parameters (the kernel command line and sysctls of the model). The host sets them with
// guest_set_param before guest_init (boot-time ones) or any time after (runtime tunables);
// modules read them with param(). Ids and defaults: abi.ts PARAM_*.

import { NR_PARAMS } from "../abi";

const values = new StaticArray<f64>(NR_PARAMS);
const isSet = new StaticArray<bool>(NR_PARAMS);

/** Value of parameter `id`, or `dflt` if the host never set it. */
export function param(id: u32, dflt: f64): f64 {
  return unchecked(isSet[id]) ? unchecked(values[id]) : dflt;
}

export function paramIsSet(id: u32): bool { return unchecked(isSet[id]); }

export function setParam(id: u32, v: f64): bool {
  if (id >= NR_PARAMS) return false;
  unchecked(values[id] = v);
  unchecked(isSet[id] = true);
  return true;
}

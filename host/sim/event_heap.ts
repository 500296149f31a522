// SPDX-License-Identifier: MIT
// A binary min-heap of timed events keyed on (atNs, seq): equal times run in insertion order,
// which keeps every run deterministic (SimPy orders its heap the same way). Cancelled events
// stay in the heap and are dropped when they reach the top (lazy deletion).

/** One scheduled callback. `seq` is the insertion number that breaks ties. */
export class SimEvent {
  cancelled = false;
  fired = false;
  constructor(readonly atNs: number, readonly seq: number, readonly fn: () => void, readonly label: string) {}
}

export class EventHeap {
  private readonly items: SimEvent[] = [];

  get size(): number { return this.items.length; }

  peek(): SimEvent | undefined { return this.items[0]; }

  push(e: SimEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): SimEvent | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as SimEvent;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.atNs < y.atNs || (x.atNs === y.atNs && x.seq < y.seq);
}

// Puts capture records back into call order (docs/capture.md, "Ordering"): the layer's writer drains
// per-thread buffers in turn, so records arrive interleaved; `sequence` (one atomic counter, wrapping at
// 2^32) is the true order. Records are held until a Flush record's watermark says everything before it has
// arrived, then released sorted; at the end of the stream everything left is released. Stack records are
// attached to the record they belong to, and Symbol records turn their return addresses into text.
import type { CaptureRecord, CaptureRecordOf } from './stream-format.ts';

/** A record in call order, with the call stack that the layer recorded for it (text; null when none). */
export interface OrderedRecord {
  readonly record: CaptureRecord;
  readonly stack: string | null;
}

interface SymbolInfo {
  readonly module: string;
  readonly moduleBase: bigint;
  readonly symbol: string;
  readonly symbolAddress: bigint;
}

/** (a - b) mod 2^32: how far sequence a is after b. */
function after(a: number, b: number): number {
  return (a - b) >>> 0;
}

function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/** A node of the stack-text cache: a path of return addresses from the innermost frame. */
interface StackNode {
  readonly next: Map<bigint, StackNode>;
  text: string | null;
}

export class SequenceOrderer {
  private pending: CaptureRecord[] = [];
  private readonly stacks = new Map<number, CaptureRecordOf<'Stack'>>();
  private readonly symbols = new Map<bigint, SymbolInfo>();
  /**
   * Stack texts already built, by their return addresses (a trie): an application calls from a few
   * thousand sites at most, so the same texts repeat, and returning the same string object lets the
   * trace's string table find it without hashing a long new string each time. Built texts use the symbols
   * known then; `unresolved` holds the addresses shown without a symbol, and a Symbol record for one of
   * them clears the cache.
   */
  private stackCache: StackNode = { next: new Map(), text: null };
  private readonly unresolved = new Set<bigint>();
  /** Frame texts by return address (only frames whose symbol was known). */
  private readonly frameTexts = new Map<bigint, string>();
  /** Sequences before this one have been released. */
  private released = 0;

  /** Takes records in stream order; returns those that can be released, in call order. */
  push(records: readonly CaptureRecord[]): OrderedRecord[] {
    let watermark: number | null = null;
    for (const r of records) {
      switch (r.name) {
        case 'Symbol':
          if (this.unresolved.has(r.fields.pc)) {
            this.unresolved.clear();
            this.stackCache = { next: new Map(), text: null };
          }
          this.frameTexts.delete(r.fields.pc);
          this.symbols.set(r.fields.pc, {
            module: r.strings.modulePath,
            moduleBase: r.fields.moduleBase,
            symbol: r.strings.symbolName,
            symbolAddress: r.fields.symbolAddress,
          });
          break;
        case 'Stack':
          this.stacks.set(r.fields.ofSequence, r);
          break;
        case 'Flush':
          // The latest watermark covers the earlier ones (watermarks only move forward).
          if (watermark === null || after(r.fields.watermark, watermark) < 0x8000_0000)
            watermark = r.fields.watermark;
          break;
        default:
          this.pending.push(r);
      }
    }
    return watermark === null ? [] : this.releaseBefore(watermark);
  }

  /** The stream is over: everything held is released in order. */
  end(): OrderedRecord[] {
    const out = this.release(this.pending);
    this.pending = [];
    this.stacks.clear();
    return out;
  }

  private releaseBefore(watermark: number): OrderedRecord[] {
    const span = after(watermark, this.released);
    const ready: CaptureRecord[] = [];
    const held: CaptureRecord[] = [];
    for (const r of this.pending) (after(r.sequence, this.released) < span ? ready : held).push(r);
    this.pending = held;
    const out = this.release(ready);
    this.released = watermark;
    return out;
  }

  private release(records: CaptureRecord[]): OrderedRecord[] {
    const base = this.released;
    records.sort((a, b) => after(a.sequence, base) - after(b.sequence, base));
    return records.map((record) => {
      const stack = this.stacks.get(record.sequence);
      if (stack === undefined) return { record, stack: null };
      this.stacks.delete(record.sequence);
      return { record, stack: this.stackText(stack.pcs) };
    });
  }

  /** One frame per line, innermost first: `symbol+0xoff (module)` or `0xpc (module+0xoff)` or `0xpc`. */
  private stackText(pcs: readonly bigint[]): string {
    let node = this.stackCache;
    for (const pc of pcs) {
      let next = node.next.get(pc);
      if (next === undefined) node.next.set(pc, (next = { next: new Map(), text: null }));
      node = next;
    }
    if (node.text !== null) return node.text;
    let text = '';
    for (let i = 0; i < pcs.length; i++) text += (i === 0 ? '' : '\n') + this.frameText(pcs[i]!);
    node.text = text;
    return text;
  }

  private frameText(pc: bigint): string {
    const known = this.frameTexts.get(pc);
    if (known !== undefined) return known;
    const s = this.symbols.get(pc);
    const hex = `0x${pc.toString(16)}`;
    if (s === undefined) {
      this.unresolved.add(pc);
      return hex;
    }
    const module = baseName(s.module);
    const text =
      s.symbol !== ''
        ? `${s.symbol}+0x${(pc - s.symbolAddress).toString(16)} (${module})`
        : module !== ''
          ? `${hex} (${module}+0x${(pc - s.moduleBase).toString(16)})`
          : hex;
    this.frameTexts.set(pc, text);
    return text;
  }
}

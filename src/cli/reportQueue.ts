import { terminalLines } from '../text/terminal';
import { colourOn, printReport } from './colour';
import { writeAll } from './io';
import type { RenderedOutcome } from './verifyOutput';

/** Reports' stdout text held before one write: a write per object cost the main thread more than reading git. */
const MAX_HELD_CHARS = 64 * 1024;

/**
 * The reports of many objects, printed in object order as their verifications finish. Reports that
 * are ready together leave in one write to stdout; a report with stderr lines (or colour) first
 * flushes what is held, so the order of stdout and stderr is the order of the objects. Nothing is
 * held while waiting for a verification.
 */
export class ReportQueue {
  private readonly pending: { result?: RenderedOutcome; done: Promise<RenderedOutcome> }[] = [];
  private held = '';
  private readonly colour = colourOn(1);
  failures = 0;

  constructor(private readonly quiet: boolean) {}

  add(done: Promise<RenderedOutcome>): void {
    const entry: { result?: RenderedOutcome; done: Promise<RenderedOutcome> } = { done };
    // A rejection reaches drain through `done` itself.
    done.then((r) => (entry.result = r), () => undefined);
    this.pending.push(entry);
  }

  /** Prints reports in order until at most `keep` are pending; with none kept, nothing stays held either. */
  async drain(keep = 0): Promise<void> {
    while (this.pending.length > keep) {
      const head = this.pending[0];
      if (!head.result) this.flush();
      const result = head.result ?? (await head.done);
      this.pending.shift();
      this.print(result);
    }
    if (keep === 0) this.flush();
  }

  private print(r: RenderedOutcome): void {
    if (!r.ok) this.failures++;
    if (r.ok && this.quiet) return;
    if (r.err.length === 0 && !this.colour) {
      this.held += terminalLines(r.out);
      if (this.held.length >= MAX_HELD_CHARS) this.flush();
      return;
    }
    this.flush();
    printReport(r);
  }

  /** On the way out after an error: what was already printable is printed, if stdout still takes it. */
  flushAfterError(): void {
    try {
      this.flush();
    } catch {
      // the error being thrown is the one to report
    }
  }

  private flush(): void {
    if (!this.held) return;
    const text = this.held;
    this.held = '';
    writeAll(1, Buffer.from(text), 'the output');
  }
}

/**
 * Progress of a long CLI operation: a redrawn bar on a terminal, one line per step otherwise (so
 * logs and tests capture it), or nothing.
 */
export type ProgressMode = 'bar' | 'lines' | 'none';

export class Progress {
  private done = 0;
  private lastDrawn = 0;

  constructor(
    private readonly total: number,
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  static defaultMode(stream: { isTTY?: boolean } = process.stderr): ProgressMode {
    return stream.isTTY ? 'bar' : 'lines';
  }

  /** One more object handled, `label` saying what it was. */
  tick(label: string): void {
    this.done++;
    if (this.mode !== 'bar') return;
    const now = Date.now();
    if (now - this.lastDrawn < 50 && this.done < this.total) return;
    this.lastDrawn = now;
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    const percent = this.total === 0 ? 100 : Math.floor((this.done / this.total) * 100);
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${this.done}/${this.total} ${label}`;
    this.out.write(`\r${text.slice(0, 110).padEnd(110)}`);
  }

  /** A step finished (a phase of the import). */
  step(text: string): void {
    if (this.mode === 'lines') this.out.write(`${text} (${this.done}/${this.total})\n`);
  }

  finish(): void {
    if (this.mode === 'bar') this.out.write('\n');
  }
}

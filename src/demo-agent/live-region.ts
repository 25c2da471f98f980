// The bottom of the demo agent's screen that is redrawn in place (a busy line, a prompt, an input box with its
// footer, a menu), with full lines printed above it that scroll away as they would in a real agent.
//
// On a terminal the region is erased by moving up to its first row and clearing to the end of the screen, so
// the number of rows it takes (long lines wrap) and the row the cursor was parked on are tracked. A one-row
// region is erased with `\r ESC[2K` alone. Without a terminal every drawn line is simply printed once.

const CLEAR_LINE = '\r\x1b[2K';
const CLEAR_BELOW = '\x1b[J';

/** Where to park the cursor: a line of the region and a column in it. */
export interface Cursor {
  line: number;
  col: number;
}

const widthOf = (line: string): number => Array.from(line).length;

export class LiveRegion {
  private lines: readonly string[] = [];
  /** Terminal rows the region takes. */
  private rows = 0;
  /** Row of the region the cursor is on (0 = first). */
  private cursorRow = 0;
  private cursor: Cursor | undefined;

  constructor(
    private readonly out: (s: string) => void,
    private readonly tty: boolean,
    private readonly columns: () => number,
  ) {}

  get shown(): boolean {
    return this.lines.length > 0;
  }

  /** Replaces the region with `lines`; the cursor ends at the end of the last line unless `cursor` says where. */
  draw(lines: readonly string[], cursor?: Cursor): void {
    if (!this.tty) {
      this.lines = lines;
      for (const l of lines) this.out(`${l}\n`);
      return;
    }
    this.out(this.erase() + this.paint(lines, cursor));
  }

  /** Prints a full line above the region and draws the region again under it. */
  print(text: string): void {
    if (!this.tty) return this.out(`${text}\n`);
    this.out(`${this.erase()}${text}\n${this.paint(this.lines, this.cursor)}`);
  }

  /** Removes the region from the screen. */
  clear(): void {
    if (this.tty && this.shown) this.out(this.erase());
    this.forget();
  }

  /** Leaves the region on screen and moves the cursor to a fresh line under it (before exiting). */
  release(): void {
    if (this.tty && this.shown) {
      const below = this.rows - 1 - this.cursorRow;
      this.out(`${below > 0 ? `\x1b[${below}B` : ''}\n`);
    }
    this.forget();
  }

  private forget(): void {
    this.lines = [];
    this.rows = 0;
    this.cursorRow = 0;
    this.cursor = undefined;
  }

  private erase(): string {
    const up = this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : '';
    return CLEAR_LINE + up + (this.rows > 1 ? CLEAR_BELOW : '');
  }

  /** The text that draws `lines` from the current (first) row and parks the cursor; records the geometry. */
  private paint(lines: readonly string[], cursor: Cursor | undefined): string {
    const cols = Math.max(1, this.columns());
    const rowsOf = (l: string): number => Math.max(1, Math.ceil(widthOf(l) / cols));
    const heights = lines.map(rowsOf);
    this.lines = lines;
    this.cursor = cursor;
    this.rows = heights.reduce((a, b) => a + b, 0);
    this.cursorRow = Math.max(0, this.rows - 1);
    let park = '';
    if (cursor !== undefined && lines.length > 0) {
      const target = heights.slice(0, cursor.line).reduce((a, b) => a + b, 0) + Math.floor(cursor.col / cols);
      const up = this.rows - 1 - target;
      const col = cursor.col % cols;
      park = `${up > 0 ? `\x1b[${up}A` : ''}\r${col > 0 ? `\x1b[${col}C` : ''}`;
      this.cursorRow = target;
    }
    return lines.join('\n') + park;
  }
}

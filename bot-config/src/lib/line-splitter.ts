/**
 * Splits a child's decoded output into lines for the structured log. Memory
 * stays bounded however long a line gets (a bot dumping a binary blob must not
 * grow the agent on a Pi): past `maxChars` the rest of the line is counted and
 * dropped.
 */
export interface SplitLine {
  text: string;
  /** Characters dropped from the end of this line because it exceeded the cap. */
  truncatedChars: number;
}

export class LineSplitter {
  private head = '';
  private dropped = 0;

  constructor(private readonly maxChars: number) {
    if (!Number.isInteger(maxChars) || maxChars < 1) {
      throw new RangeError('line splitter needs maxChars >= 1');
    }
  }

  /** Feeds decoded text; returns the lines it completed. */
  push(chunk: string): SplitLine[] {
    const lines: SplitLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      this.append(chunk.slice(start, nl));
      lines.push(this.take());
      start = nl + 1;
    }
    this.append(chunk.slice(start));
    return lines;
  }

  /** The stream ended: returns the unterminated last line, if any. */
  end(): SplitLine[] {
    return this.head === '' && this.dropped === 0 ? [] : [this.take()];
  }

  private append(text: string): void {
    const room = this.maxChars - this.head.length;
    if (text.length <= room) {
      this.head += text;
    } else {
      this.head += text.slice(0, room);
      this.dropped += text.length - room;
    }
  }

  private take(): SplitLine {
    // CRLF output (Windows-minded tools, progress bars) should not leave a stray \r in the log.
    const text =
      this.dropped === 0 && this.head.endsWith('\r') ? this.head.slice(0, -1) : this.head;
    const line = { text, truncatedChars: this.dropped };
    this.head = '';
    this.dropped = 0;
    return line;
  }
}

import { Invalid } from '../shared/errors.js';

/**
 * A push parser for JSON Lines: one JSON object per line, LF or CRLF. Lines
 * holding only whitespace are skipped (a trailing newline is usual).
 */
export type ObjectSink = (obj: Record<string, unknown>, line: number) => void;

export class JsonlParser {
  private rest = '';
  private line = 0;

  constructor(private readonly sink: ObjectSink) {}

  push(text: string): void {
    const data = this.rest + text;
    let start = 0;
    for (let nl = data.indexOf('\n'); nl !== -1; nl = data.indexOf('\n', start)) {
      this.handle(data.slice(start, nl));
      start = nl + 1;
    }
    this.rest = data.slice(start);
  }

  end(): void {
    if (this.rest !== '') this.handle(this.rest);
    this.rest = '';
  }

  private handle(raw: string): void {
    this.line++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw Invalid.field('body', `line ${this.line}: invalid JSON (${(e as Error).message}); expected one JSON object per line`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw Invalid.field('body', `line ${this.line}: expected a JSON object, found ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`}`);
    }
    this.sink(v as Record<string, unknown>, this.line);
  }
}

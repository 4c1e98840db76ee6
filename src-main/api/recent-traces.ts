// Recently opened trace paths, newest first, at most `limit`. Kept in a JSON file when given one (the
// Electron app's userData), in memory otherwise (web mode).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class RecentTraces {
  private items: string[] = [];

  constructor(
    private readonly file: string | null,
    private readonly limit = 10,
  ) {
    if (file === null) return;
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (Array.isArray(parsed)) {
        this.items = parsed.filter((p): p is string => typeof p === 'string').slice(0, limit);
      }
    } catch {
      // No file yet, or a damaged one: start empty.
    }
  }

  list(): string[] {
    return [...this.items];
  }

  add(tracePath: string): void {
    const absolute = path.resolve(tracePath);
    this.items = [absolute, ...this.items.filter((p) => p !== absolute)].slice(0, this.limit);
    if (this.file === null) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(this.file, `${JSON.stringify(this.items, null, 2)}\n`);
    } catch {
      // Losing the recent list is not worth failing a trace load for.
    }
  }
}

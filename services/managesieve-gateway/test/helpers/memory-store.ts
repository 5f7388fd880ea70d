import type { ScriptStore } from '../../src/script-store.js';

/** The script store's rules over a Map (the Postgres store has its own tests in libs/store). */
export class MemoryScriptStore implements ScriptStore {
  readonly scripts = new Map<string, { content: string; active: boolean }>();
  /** Set to make every call fail as a down backend would. */
  down = false;

  private up(): void {
    if (this.down) throw new Error('connect ECONNREFUSED');
  }

  async list(): Promise<{ name: string; active: boolean }[]> {
    this.up();
    return [...this.scripts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, s]) => ({ name, active: s.active }));
  }

  async get(_accountId: string, name: string): Promise<string | undefined> {
    this.up();
    return this.scripts.get(name)?.content;
  }

  async put(
    _accountId: string,
    name: string,
    content: string,
    maxScripts: number,
  ): Promise<'stored' | 'too-many'> {
    this.up();
    const existing = this.scripts.get(name);
    if (!existing && this.scripts.size >= maxScripts) return 'too-many';
    this.scripts.set(name, { content, active: existing?.active ?? false });
    return 'stored';
  }

  async activate(_accountId: string, name: string | null): Promise<boolean> {
    this.up();
    if (name !== null && !this.scripts.has(name)) return false;
    for (const [n, s] of this.scripts) s.active = n === name;
    return true;
  }

  async delete(_accountId: string, name: string): Promise<'deleted' | 'active' | 'missing'> {
    this.up();
    const script = this.scripts.get(name);
    if (!script) return 'missing';
    if (script.active) return 'active';
    this.scripts.delete(name);
    return 'deleted';
  }

  async rename(_accountId: string, from: string, to: string): Promise<'renamed' | 'missing' | 'exists'> {
    this.up();
    const script = this.scripts.get(from);
    if (!script) return 'missing';
    if (from === to) return 'renamed';
    if (this.scripts.has(to)) return 'exists';
    this.scripts.delete(from);
    this.scripts.set(to, script);
    return 'renamed';
  }
}

import { atom, untagged } from './encoder.js';

/**
 * One node of a THREAD answer: a message (its number or UID) or, with `id` null, a dummy standing for
 * a message that is not in the answer but whose replies are (RFC 5256 4 allows one only at the top).
 */
export interface ThreadNode {
  id: number | null;
  children: ThreadNode[];
}

/**
 * thread-list (RFC 5256 5): a message followed by its only child, or by each of several children in
 * its own parentheses ("(3 6 (4 23)(44 7 96))"); a dummy writes its children only ("((3)(5))").
 * Written with a stack rather than recursion: a reply chain can be thousands deep.
 */
function threadMembers(root: ThreadNode): string {
  const out: string[] = [];
  const stack: Array<ThreadNode | string> = [root];
  while (stack.length) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    if (item.id !== null) out.push(String(item.id));
    if (item.children.length === 0) continue;
    if (item.id !== null) out.push(' ');
    if (item.children.length === 1 && item.id !== null) {
      stack.push(item.children[0]!);
      continue;
    }
    for (let i = item.children.length - 1; i >= 0; i--) stack.push(')', item.children[i]!, '(');
  }
  return out.join('');
}

/** `* THREAD (2)(3 6 (4 23)(44 7 96))`: one parenthesised thread per root, in the given order. */
export function threadResponse(roots: ThreadNode[]): Buffer {
  // Built as one atom: thread-list is nested syntax of numbers and parentheses only, no strings.
  const lists = roots.map((root) => `(${threadMembers(root)})`).join('');
  return untagged(lists ? [atom('THREAD'), atom(lists)] : [atom('THREAD')]);
}

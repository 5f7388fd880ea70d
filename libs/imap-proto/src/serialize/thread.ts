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
 */
function threadMembers(node: ThreadNode): string {
  const head = node.id === null ? '' : String(node.id);
  if (node.children.length === 0) return head;
  const tail =
    node.children.length === 1 && node.id !== null
      ? threadMembers(node.children[0]!)
      : node.children.map((child) => `(${threadMembers(child)})`).join('');
  return head === '' ? tail : `${head} ${tail}`;
}

/** `* THREAD (2)(3 6 (4 23)(44 7 96))`: one parenthesised thread per root, in the given order. */
export function threadResponse(roots: ThreadNode[]): Buffer {
  // Built as one atom: thread-list is nested syntax of numbers and parentheses only, no strings.
  const lists = roots.map((root) => `(${threadMembers(root)})`).join('');
  return untagged(lists ? [atom('THREAD'), atom(lists)] : [atom('THREAD')]);
}

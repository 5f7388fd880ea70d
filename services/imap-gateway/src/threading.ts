import type { ThreadNode } from '@correo/imap-proto';
import { casemap } from './sortable-messages.js';
import type { SortableMessage } from './sortable-messages.js';

/** A message of the tree, or a dummy (message null) for a parent that is referenced but absent. */
interface Container {
  message: SortableMessage | null;
  parent: Container | null;
  children: Container[];
}

type Id = (m: SortableMessage) => number;

const subjectKey = (m: SortableMessage): string => casemap(m.keys.subject).toString('latin1');

/** Sent date, then sequence number (RFC 5256 "sent date" ordering, ties in mailbox order). */
function compareMessages(a: SortableMessage, b: SortableMessage): number {
  return a.sent - b.sent || a.number - b.number;
}

/**
 * THREAD=ORDEREDSUBJECT (RFC 5256 4): messages grouped by base subject; in each thread, by sent date,
 * the first is the parent of all the others (siblings); threads in order of their first message.
 */
export function threadByOrderedSubject(messages: SortableMessage[], id: Id): ThreadNode[] {
  const threads = new Map<string, { first: SortableMessage; rest: SortableMessage[] }>();
  for (const m of [...messages].sort(compareMessages)) {
    const key = subjectKey(m);
    const thread = threads.get(key);
    if (thread) thread.rest.push(m);
    else threads.set(key, { first: m, rest: [] });
  }
  return [...threads.values()]
    .sort((a, b) => compareMessages(a.first, b.first))
    .map(({ first, rest }) => ({
      id: id(first),
      children: rest.map((m) => ({ id: id(m), children: [] })),
    }));
}

function isAncestor(candidate: Container, of: Container): boolean {
  for (let c: Container | null = of; c; c = c.parent) if (c === candidate) return true;
  return false;
}

function unlink(child: Container): void {
  if (!child.parent) return;
  const siblings = child.parent.children;
  siblings.splice(siblings.indexOf(child), 1);
  child.parent = null;
}

/** parent -> child, unless it would make a loop. */
function link(parent: Container, child: Container): void {
  if (parent === child || isAncestor(child, parent)) return;
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** Every container below `roots`, children before their parent (loops, not recursion: threads can be deep). */
function postOrder(roots: Container[]): Container[] {
  const out: Container[] = [];
  const stack: Array<[Container, boolean]> = roots.map((root) => [root, false]);
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [c, expanded] = top;
    if (expanded) {
      out.push(c);
      continue;
    }
    stack.push([c, true]);
    for (const child of c.children) stack.push([child, false]);
  }
  return out;
}

/**
 * Step 3: dummies without children go; others hand their children to their own level, except a
 * dummy at the top with more than one child, which stays.
 */
function pruned(level: Container[], top: boolean): Container[] {
  const kept: Container[] = [];
  for (const c of level) {
    if (c.message) kept.push(c);
    else if (c.children.length === 0) continue;
    else if (!top || c.children.length === 1) kept.push(...c.children);
    else kept.push(c);
  }
  return kept;
}

function prune(roots: Container[]): Container[] {
  for (const c of postOrder(roots)) {
    c.children = pruned(c.children, false);
    for (const child of c.children) child.parent = c;
  }
  const top = pruned(roots, true);
  for (const root of top) root.parent = null;
  return top;
}

/** The message that stands for a container when sorting or comparing subjects: a dummy's first child. */
function representative(c: Container): SortableMessage {
  if (c.message) return c.message;
  // Pruning (step 3) removed every dummy without children.
  const [first] = c.children;
  if (!first) throw new Error('THREAD: a dummy container without children');
  return representative(first);
}

/** Step 6: every set of siblings by sent date, the deepest first (a dummy sorts as its first child). */
function sortSiblings(roots: Container[]): void {
  const byDate = (a: Container, b: Container): number =>
    compareMessages(representative(a), representative(b));
  for (const c of postOrder(roots)) c.children.sort(byDate);
  roots.sort(byDate);
}

/**
 * THREAD=REFERENCES (RFC 5256 4): parent/child links from References (or In-Reply-To), dummies for
 * absent parents pruned, threads with the same base subject gathered, siblings by sent date.
 */
export function threadByReferences(messages: SortableMessage[], id: Id): ThreadNode[] {
  const byMessageId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (messageId: string): Container => {
    let c = byMessageId.get(messageId);
    if (!c) {
      c = { message: null, parent: null, children: [] };
      byMessageId.set(messageId, c);
      all.push(c);
    }
    return c;
  };
  for (const m of [...messages].sort((a, b) => a.number - b.number)) {
    // (1) A missing or repeated Message-ID gets a container of its own.
    let own: Container;
    const known = m.keys.messageId === null ? undefined : byMessageId.get(m.keys.messageId);
    if (m.keys.messageId !== null && (!known || !known.message)) {
      own = containerFor(m.keys.messageId);
      own.message = m;
    } else {
      own = { message: m, parent: null, children: [] };
      all.push(own);
    }
    // (1A) Each reference the parent of the next, where none has a parent yet.
    let previous: Container | null = null;
    for (const ref of m.keys.references) {
      const c = containerFor(ref);
      if (previous && !c.parent && !isAncestor(c, previous)) link(previous, c);
      previous = c;
    }
    // (1B) The last reference is this message's parent, replacing one a truncated References gave.
    if (previous && previous !== own && !isAncestor(own, previous)) link(previous, own);
    else if (!previous) unlink(own);
  }

  // (2) and (3)
  let roots = prune(all.filter((c) => !c.parent));
  // (4) Roots by date, so that the gathering below meets them in that order.
  sortSiblings(roots);

  // (5) Threads whose roots share a base subject are gathered under one.
  const table = new Map<string, Container>();
  const subjectOf = (c: Container): string => representative(c).keys.subject;
  const isReply = (c: Container): boolean => representative(c).replyOrForward;
  for (const root of roots) {
    const subject = subjectOf(root);
    if (!subject) continue;
    const key = casemap(subject).toString('latin1');
    const old = table.get(key);
    if (!old || (old.message && (!root.message || (isReply(old) && !isReply(root))))) table.set(key, root);
  }
  const gone = new Set<Container>();
  for (const root of [...roots]) {
    const subject = subjectOf(root);
    if (!subject || gone.has(root)) continue;
    const key = casemap(subject).toString('latin1');
    const other = table.get(key);
    if (!other || other === root) continue;
    if (!other.message && !root.message) {
      for (const child of root.children) child.parent = other;
      other.children.push(...root.children);
      gone.add(root);
    } else if (!other.message) {
      root.parent = other;
      other.children.push(root);
      gone.add(root);
    } else if (!root.message) {
      other.parent = root;
      root.children.push(other);
      gone.add(other);
      table.set(key, root);
    } else if (!isReply(other) && isReply(root)) {
      root.parent = other;
      other.children.push(root);
      gone.add(root);
    } else if (isReply(other) && !isReply(root)) {
      other.parent = root;
      root.children.push(other);
      gone.add(other);
      table.set(key, root);
    } else {
      const dummy: Container = { message: null, parent: null, children: [other, root] };
      other.parent = dummy;
      root.parent = dummy;
      roots[roots.indexOf(other)] = dummy;
      gone.add(root);
      table.set(key, dummy);
    }
  }
  roots = roots.filter((c) => !gone.has(c));

  // (6)
  sortSiblings(roots);
  const nodes = new Map<Container, ThreadNode>();
  const nodeOf = (c: Container): ThreadNode => {
    let node = nodes.get(c);
    if (!node) {
      node = { id: c.message ? id(c.message) : null, children: [] };
      nodes.set(c, node);
    }
    return node;
  };
  for (const c of postOrder(roots)) nodeOf(c).children.push(...c.children.map(nodeOf));
  return roots.map(nodeOf);
}

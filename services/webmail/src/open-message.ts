import { parseMessage, type ParsedMessage } from './message-view.js';
import type { WebmailSession } from './sessions.js';

/**
 * The message parsed once per open: the reading pane asks for the summary, then the sanitised body,
 * then maybe an attachment or a reply, all of the same message; the session keeps the last one.
 */
export async function openMessage(
  session: WebmailSession,
  folder: string,
  uid: number,
): Promise<ParsedMessage> {
  const key = `${folder}\u0000${uid}`;
  if (session.lastMessage?.key === key) return session.lastMessage.message;
  const { source, flags } = await session.account.source(folder, uid);
  const message = await parseMessage(folder, uid, source, flags);
  session.lastMessage = { key, message };
  return message;
}

import { quotaResponse, quotaRootResponse } from '@correo/imap-proto';
import type { GetQuotaRequest, GetQuotaRootRequest, QuotaResource } from '@correo/imap-proto';
import { findImapMailbox, readImapQuota } from '@correo/store';
import type { AuthenticatedContext, Completion } from '../command-context.js';
import { no, ok } from '../command-context.js';

/** The account's one quota root, "" (RFC 9208): STORAGE in KiB; none when the account has no limit. */
async function resources(ctx: AuthenticatedContext): Promise<QuotaResource[] | null> {
  const quota = await readImapQuota(ctx.services.pool, ctx.account.accountId);
  if (!quota || quota.quotaBytes === null) return null;
  return [
    { name: 'STORAGE', usage: Math.ceil(quota.usedBytes / 1024), limit: Math.floor(quota.quotaBytes / 1024) },
  ];
}

export async function getQuota(ctx: AuthenticatedContext, request: GetQuotaRequest): Promise<Completion> {
  const found = request.root === '' ? await resources(ctx) : null;
  if (!found) return no(`No quota root ${request.root}`, { code: 'NONEXISTENT' });
  await ctx.io.write(quotaResponse('', found));
  return ok('GETQUOTA completed');
}

export async function getQuotaRoot(
  ctx: AuthenticatedContext,
  request: GetQuotaRootRequest,
): Promise<Completion> {
  const mailbox = await findImapMailbox(ctx.services.pool, ctx.account.accountId, request.mailbox);
  if (!mailbox) return no(`No mailbox named ${request.mailbox}`, { code: 'NONEXISTENT' });
  const found = await resources(ctx);
  const out = [quotaRootResponse(mailbox.name, found ? [''] : [], ctx.session.encodeOptions)];
  if (found) out.push(quotaResponse('', found));
  await ctx.io.write(...out);
  return ok('GETQUOTAROOT completed');
}

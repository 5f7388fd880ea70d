import type { LoginRequest } from '@correo/imap-proto';
import type { CommandContext, Completion } from '../command-context.js';
import { logIn } from '../login.js';

export function login(ctx: CommandContext, request: LoginRequest): Promise<Completion> {
  return logIn(ctx, request.username, request.password);
}

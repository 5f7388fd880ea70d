/**
 * `user%other@ours` and `other!user@ours` are the old source-routing tricks that made open relays: a
 * local part carrying another destination is refused outright instead of being looked up.
 */
export function hasRelayAddressing(localPart: string): boolean {
  return localPart.includes('%') || localPart.includes('!') || localPart.includes('@');
}

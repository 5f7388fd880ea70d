import { ConfigError, describeGiven, type ConfigIssue } from './config-error.js';
import { baseSecrets, baseVariables, buildBaseConfig, checkBaseVariables, type Config } from './schema.js';
import type { ConfigSection, CrossCheckIssue, VariableShape, VariableValues } from './section.js';

export type Env = Record<string, string | undefined>;

// Sections are stored loosely typed; loadConfig's signature restores the precise types.
type AnySection = ConfigSection<VariableShape, unknown>;
type Sections = Record<string, AnySection>;
type SectionsOutput<X extends Sections> = { [K in keyof X]: ReturnType<X[K]['build']> };

/** Names of every variable the shared schema and the given sections read, for docs and diagnostics. */
export function configVariableNames(sections: Sections = {}): string[] {
  return [
    ...Object.keys(baseVariables),
    ...Object.values(sections).flatMap((section) => Object.keys(section.variables)),
  ];
}

/**
 * Reads the environment once at startup. Every bad variable of the base schema and of every section is
 * collected before throwing, so an operator fixes them all in one round. Empty values count as unset, as
 * Kubernetes and docker-compose produce them for "no value".
 */
export function loadConfig(env?: Env): Config;
export function loadConfig<X extends Sections>(env: Env, sections: X): Config & SectionsOutput<X>;
export function loadConfig(
  env: Env = process.env,
  sections: Sections = {},
): Config & Record<string, unknown> {
  const raw = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const issues: ConfigIssue[] = [];
  const report = (found: CrossCheckIssue[], secrets: readonly string[]) => {
    for (const { variable, expected } of found) {
      if (issues.some((issue) => issue.variable === variable)) continue;
      issues.push({ variable, expected, given: describeGiven(raw(variable), secrets.includes(variable)) });
    }
  };

  const base = parseVariables(baseVariables, raw);
  report(base.issues, baseSecrets);
  report(checkBaseVariables(base.values, raw), baseSecrets);

  const parsedSections = Object.entries(sections).map(([name, section]) => {
    const shared = Object.keys(section.variables).filter((variable) => variable in baseVariables);
    if (shared.length > 0) throw new Error(`config section "${name}" redefines ${shared.join(', ')}`);
    const parsed = parseVariables(section.variables, raw);
    const secrets = section.secrets ?? [];
    report(parsed.issues, secrets);
    report(section.check?.(parsed.values, raw) ?? [], secrets);
    return { name, section, values: parsed.values };
  });

  if (issues.length > 0) throw new ConfigError(issues);

  // No issues means every variable parsed, so the partial records are complete.
  const config = buildBaseConfig(base.values as VariableValues<typeof baseVariables>);
  const extra: Record<string, unknown> = {};
  for (const { name, section, values } of parsedSections) {
    if (name in config) throw new Error(`config section "${name}" clashes with the shared group "${name}"`);
    extra[name] = section.build(values as VariableValues<VariableShape>, config);
  }
  return { ...config, ...extra };
}

function parseVariables<V extends VariableShape>(
  variables: V,
  raw: (name: string) => string | undefined,
): { values: Partial<VariableValues<V>>; issues: CrossCheckIssue[] } {
  const values: Partial<VariableValues<V>> = {};
  const issues: CrossCheckIssue[] = [];
  for (const name of Object.keys(variables) as (keyof V & string)[]) {
    const result = variables[name]!.safeParse(raw(name));
    if (result.success) {
      values[name] = result.data as VariableValues<V>[typeof name];
    } else {
      issues.push({ variable: name, expected: result.error.issues[0]?.message ?? 'a valid value' });
    }
  }
  return { values, issues };
}

/** For main.ts: print every bad variable to stderr, one line each, and exit 1 instead of a stack trace. */
export function loadConfigOrExit(env?: Env): Config;
export function loadConfigOrExit<X extends Sections>(env: Env, sections: X): Config & SectionsOutput<X>;
export function loadConfigOrExit(env: Env = process.env, sections: Sections = {}): Config {
  try {
    return loadConfig(env, sections);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

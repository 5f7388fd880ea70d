/** One wrong environment variable. `given` is already safe to print: secrets are never echoed. */
export interface ConfigIssue {
  variable: string;
  expected: string;
  given: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const header = `invalid configuration (${issues.length} variable${issues.length === 1 ? '' : 's'}):`;
  const lines = issues.map((issue) => `  ${issue.variable}: expected ${issue.expected}, got ${issue.given}`);
  return [header, ...lines].join('\n');
}

const maxShownLength = 80;

/** How a raw value is shown in an error: quoted, shortened, or hidden when it is a secret. */
export function describeGiven(value: string | undefined, secret: boolean): string {
  if (value === undefined) return 'nothing (unset)';
  if (secret) return 'a secret value (not shown)';
  const shown = value.length > maxShownLength ? `${value.slice(0, maxShownLength)}...` : value;
  return JSON.stringify(shown);
}

export interface ConfigIssue {
  /** YAML-ish path: `devices[2].port`, `engagement.windowDays`, or `<file>:line:col` for syntax errors */
  path: string;
  message: string;
}

/** Every problem found in a config, each with its path and what to do. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

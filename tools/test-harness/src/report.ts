/** One line per provisioned dependency, so a test log says what the tests ran against. */
export function announce(line: string): void {
  console.log(`[test-harness] ${line}`);
}

/** The URL with its password masked: a DATABASE_URL from the environment may hold a real one. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

export type Environment = Record<string, string | undefined>;

/** A one-line reason; AggregateError (a refused connect on ::1 and 127.0.0.1) has an empty message of its own. */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(reasonOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

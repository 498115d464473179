/** Progress lines go to stderr, so that stdout carries only the infrastructure lines and the table. */
export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

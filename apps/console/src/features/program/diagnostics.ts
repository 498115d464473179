export interface LineInfo {
  from: number;
  to: number;
}

/**
 * Where a server problem goes in the document: 1-based line and column to offsets, clamped into
 * the document (the text may have changed since it was validated); a problem without a place
 * marks the first line. The mark runs from the column to the end of its line.
 */
export function diagnosticRange(
  lineAt: (n: number) => LineInfo,
  lines: number,
  line: number | undefined,
  column: number | undefined,
): LineInfo {
  const target = lineAt(Math.min(Math.max(line ?? 1, 1), lines));
  const from = Math.min(target.from + Math.max((column ?? 1) - 1, 0), target.to);
  return { from, to: Math.max(target.to, from) };
}

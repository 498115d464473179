import { diagnosticRange } from './diagnostics';

/** Lines of "ab\ncdef\n" as CodeMirror numbers them: offsets of each line's start and end. */
const lines = [
  { from: 0, to: 2 },
  { from: 3, to: 7 },
  { from: 8, to: 8 },
];
const lineAt = (n: number) => lines[n - 1]!;

describe('diagnosticRange', () => {
  it('marks from the column to the end of the line', () => {
    expect(diagnosticRange(lineAt, 3, 2, 3)).toEqual({ from: 5, to: 7 });
  });

  it('keeps a place past the end of the text (edited since) inside the document', () => {
    expect(diagnosticRange(lineAt, 3, 40, 9)).toEqual({ from: 8, to: 8 });
    expect(diagnosticRange(lineAt, 3, 1, 99)).toEqual({ from: 2, to: 2 });
  });

  it('marks the first line when the problem has no place', () => {
    expect(diagnosticRange(lineAt, 3, undefined, undefined)).toEqual({ from: 0, to: 2 });
  });
});

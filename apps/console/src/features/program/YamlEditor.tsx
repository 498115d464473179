import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { ProblemDetail } from '../../api/types';
import { diagnosticRange } from './diagnostics';

/** CodeMirror 6 with YAML highlighting; the server's problems are marked at their line and column. */
export function YamlEditor(props: {
  value: string;
  onChange: (text: string) => void;
  problems: readonly ProblemDetail[];
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      parent: host.current,
      doc: props.value,
      extensions: [
        basicSetup,
        yaml(),
        lintGutter(),
        EditorView.contentAttributes.of({ 'aria-label': 'Program YAML' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange.current(update.state.doc.toString());
        }),
      ],
    });
    // Keyboard users can reach and scroll the editor's own scroll box (axe: scrollable-region-focusable).
    editor.scrollDOM.tabIndex = 0;
    view.current = editor;
    return () => editor.destroy();
    // The editor owns the text once created; a new document comes through the effect below.
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor || editor.state.doc.toString() === props.value) return;
    editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const lines = editor.state.doc.lines;
    const diagnostics: Diagnostic[] = props.problems.map((problem) => {
      const { from, to } = diagnosticRange(
        (n) => editor.state.doc.line(n),
        lines,
        problem.line,
        problem.column,
      );
      return { from, to, severity: 'error', message: `${problem.path}: ${problem.message}` };
    });
    const first = diagnostics[0];
    editor.dispatch(setDiagnostics(editor.state, diagnostics), {
      // The first problem in view, wherever the operator was scrolled.
      effects: first ? EditorView.scrollIntoView(first.from, { y: 'center' }) : [],
    });
  }, [props.problems]);

  return <div ref={host} className="editor" />;
}

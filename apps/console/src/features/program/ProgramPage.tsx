import { useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { ProblemDetail, ProgramValidation } from '../../api/types';
import { Status } from '../../app/Status';
import { describeError, useApi } from '../../app/use-api';
import { YamlEditor } from './YamlEditor';

/**
 * The program in force, editable: Validate asks the server (which changes nothing) for problems
 * at line and column, or for the diff and which journeys keep in-flight customers on their
 * version; only then can the operator apply it with PUT /v1/program.
 */
export function ProgramPage() {
  const current = useApi(() => api<string>('/v1/program', { accept: 'application/yaml' }), []);
  const [text, setText] = useState<string | null>(null);
  const [validation, setValidation] = useState<ProgramValidation | null>(null);
  const [problems, setProblems] = useState<ProblemDetail[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const edited = text ?? current.data ?? '';

  const validate = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const answer = await api<ProgramValidation>('/v1/program/validate', { method: 'POST', text: edited });
      setValidation(answer);
      setProblems(answer.errors);
    } catch (error) {
      setValidation(null);
      setProblems(error instanceof ApiError ? error.details : []);
      setNotice(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  const apply = async () => {
    setBusy(true);
    try {
      const applied = await api<{ version: string }>('/v1/program', { method: 'PUT', text: edited });
      setNotice(`Applied: program version ${applied.version}`);
      setValidation(null);
      setProblems([]);
      setText(null);
      current.reload();
    } catch (error) {
      setProblems(error instanceof ApiError ? error.details : []);
      setNotice(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  if (current.data === undefined) return <Status loaded={current} />;
  return (
    <section>
      <h1>Program</h1>
      <div className="row">
        <button type="button" disabled={busy} onClick={() => void validate()}>
          Validate
        </button>
        <button
          type="button"
          disabled={busy || !validation?.valid || validation.diff === ''}
          onClick={() => void apply()}
        >
          Apply
        </button>
        <button
          type="button"
          className="quiet"
          disabled={busy || text === null}
          onClick={() => {
            setText(null);
            setValidation(null);
            setProblems([]);
          }}
        >
          Discard changes
        </button>
        {notice && <span role="status">{notice}</span>}
      </div>
      <YamlEditor
        value={edited}
        problems={problems}
        onChange={(changed) => {
          setText(changed);
          setValidation(null);
        }}
      />
      {problems.length > 0 && (
        <>
          <h2>Problems</h2>
          <ul className="problems" aria-label="Problems">
            {problems.map((problem, index) => (
              <li key={index} data-line={problem.line} data-column={problem.column}>
                {problem.line !== undefined && (
                  <strong>
                    line {problem.line}, column {problem.column ?? 1}:
                  </strong>
                )}{' '}
                <code>{problem.path}</code> {problem.message}
              </li>
            ))}
          </ul>
        </>
      )}
      {validation?.valid && (
        <>
          <h2>Before you apply</h2>
          {validation.diff ? <Diff diff={validation.diff} /> : <p>No change from the program in force.</p>}
          <table aria-label="Journeys after applying">
            <thead>
              <tr>
                <th scope="col">Journey</th>
                <th scope="col">Change</th>
                <th scope="col">In flight staying on their version</th>
              </tr>
            </thead>
            <tbody>
              {(validation.journeys ?? []).map((journey) => (
                <tr key={journey.key}>
                  <td>{journey.key}</td>
                  <td>{journey.change}</td>
                  <td>
                    {journey.inFlightStayingOnCurrent}
                    {journey.currentVersion ? ` on ${journey.currentVersion.slice(0, 8)}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Diff({ diff }: { diff: string }) {
  return (
    <pre className="diff" aria-label="Diff">
      {diff.split('\n').map((line, index) => (
        <span
          key={index}
          className={
            line.startsWith('+')
              ? 'added'
              : line.startsWith('-')
                ? 'removed'
                : line.startsWith('@@')
                  ? 'hunk'
                  : ''
          }
        >
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

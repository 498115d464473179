import { AppError, type ErrorDetail } from '@mmp/errors';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { errorText, programErrorMap } from './issues';
import { Program } from './program';

/** The file a program is read from, inside PROGRAM_DIR. */
export const PROGRAM_FILE = 'program.yaml';

export interface ParseProgramOptions {
  /** How messages name the source (`program/program.yaml:14:8`); default `program.yaml`. */
  fileName?: string;
}

/** One problem before it is worded: where (a path into the program) and what. */
interface Problem {
  path: readonly PropertyKey[];
  message: string;
  /** Point at the key itself (an unknown or misspelled key) rather than its value. */
  at: 'key' | 'value';
  /** Where the problem sits in the source when known directly (YAML syntax errors). */
  offset?: number;
}

/** `milestones[3].n`, `milestones[0].where["traits.country"].in`, `templates.birthday_email.subject`. */
export function formatProgramPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const name = String(part);
      if (/^[A-Za-z_$][\w$]*$/.test(name)) out += out === '' ? name : `.${name}`;
      else out += `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      const messages = issue.message.split('\n');
      return issue.keys.map((key, i) => ({
        path: [...issue.path, key],
        message: messages[i] ?? messages[0] ?? 'unknown key',
        at: 'key',
      }));
    }
    const atKey = issue.code === 'invalid_key' || (issue.code === 'custom' && issue.params?.['at'] === 'key');
    return [{ path: issue.path, message: issue.message, at: atKey ? 'key' : 'value' }];
  });
}

function startOf(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/** The offset in the source of the value (or key) at `path`, or of its nearest existing parent. */
function locate(doc: Document, path: readonly PropertyKey[], at: 'key' | 'value'): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [i, part] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      const keyStart = startOf(pair.key);
      if (i === path.length - 1 && at === 'key' && keyStart !== undefined) return keyStart;
      const valueStart = startOf(pair.value);
      offset = valueStart ?? keyStart ?? offset;
      if (valueStart === undefined) break;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item: unknown = node.items[part];
      const itemStart = startOf(item);
      if (itemStart === undefined) break;
      offset = itemStart;
      node = item;
    } else break;
  }
  return offset;
}

function fail(
  fileName: string,
  problems: readonly Problem[],
  lineCounter?: LineCounter,
  doc?: Document,
): never {
  const placed = problems.map((problem, order) => {
    const offset = problem.offset ?? (doc ? locate(doc, problem.path, problem.at) : undefined);
    const where = offset !== undefined && lineCounter ? lineCounter.linePos(offset) : undefined;
    const place = where ? ` (${fileName}:${where.line}:${where.col})` : '';
    const detail: ErrorDetail = {
      path: formatProgramPath(problem.path),
      message: `${problem.message}${place}`,
      ...(where ? { line: where.line, column: where.col } : {}),
    };
    return { detail, offset: offset ?? 0, order };
  });
  placed.sort((a, b) => a.offset - b.offset || a.order - b.order);
  const details = placed.map((p) => p.detail);
  const count = details.length === 1 ? '1 problem' : `${details.length} problems`;
  const lines = details.map((d) => `  ${d.path ? `${d.path}: ` : ''}${d.message}`);
  throw AppError.validation([`${fileName}: ${count} in the program`, ...lines].join('\n'), details);
}

/** The first line of a YAML error without the position the yaml package appends to it. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Parses and validates a program file. Throws `AppError.validation` listing every problem, each
 * detail with a path (`milestones[3].n`) and a message ending in its place (`program.yaml:14:8`).
 * JSON is YAML, so a JSON body parses here too.
 */
export function parseProgram(source: string, options: ParseProgramOptions = {}): Program {
  const fileName = options.fileName ?? PROGRAM_FILE;
  const lineCounter = new LineCounter();
  // `merge` lets a file share settings with anchors and `<<: *base`, as YAML users expect.
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    // After an unexpected token the parser reports every token that follows: keep the first.
    const errors = doc.errors.filter(
      (error, i) =>
        error.code !== 'UNEXPECTED_TOKEN' || doc.errors.findIndex((e) => e.code === 'UNEXPECTED_TOKEN') === i,
    );
    fail(
      fileName,
      errors.map((error) => ({
        path: [],
        message: `YAML syntax error: ${yamlMessage(error.message)}`,
        at: 'value',
        offset: error.pos[0],
      })),
      lineCounter,
    );
  }
  if (doc.contents === null) {
    fail(
      fileName,
      [
        {
          path: [],
          message:
            'the program is empty: expected a mapping with policies, milestones, journeys and templates',
          at: 'value',
          offset: 0,
        },
      ],
      lineCounter,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    fail(
      fileName,
      [{ path: [], message: `YAML error: ${errorText(error)}`, at: 'value', offset: 0 }],
      lineCounter,
    );
  }
  const result = Program.safeParse(data, { error: programErrorMap });
  if (result.success) return result.data;
  fail(fileName, problemsOf(result.error), lineCounter, doc);
}

/**
 * Validates a program that is already a value (a JSON body). Same rules and paths as
 * parseProgram, without line numbers.
 */
export function validateProgram(value: unknown, options: ParseProgramOptions = {}): Program {
  const result = Program.safeParse(value, { error: programErrorMap });
  if (result.success) return result.data;
  fail(options.fileName ?? 'program', problemsOf(result.error));
}

/** Reads and parses `<dir>/program.yaml`; a missing file is an error naming its full path. */
export function loadProgramFromDir(dir: string): Program {
  const file = join(dir, PROGRAM_FILE);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    // Checked by shape: errors from node:fs may come from another realm (jest's sandbox).
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code === 'ENOENT') throw AppError.notFound(`program file not found: ${resolve(file)}`);
    throw new AppError('internal', `cannot read program file ${resolve(file)}: ${errorText(error)}`);
  }
  return parseProgram(source, { fileName: file });
}

/** The program as YAML (GET /v1/program); parsing it back gives an equal program. */
export function stringifyProgram(program: Program): string {
  const doc = new Document(program);
  // "09:00" is a string in YAML 1.2 but a number of minutes to YAML 1.1 tools: quote times.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && /^\d{1,2}:\d{2}$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

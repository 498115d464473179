import type { Program } from './program';

/**
 * The program in force. Services read it on every decision rather than caching parts of it,
 * so a replaced program (PUT /v1/program) applies to everything that happens next.
 */
export class ProgramStore {
  private program: Program;

  constructor(initial: Program) {
    this.program = initial;
  }

  current(): Program {
    return this.program;
  }

  replace(next: Program): void {
    this.program = next;
  }
}

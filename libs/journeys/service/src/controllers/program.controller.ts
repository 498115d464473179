import { AppError } from '@mmp/errors';
import {
  journeyVersion,
  parseProgram,
  programVersion,
  ProgramStore,
  stringifyProgram,
  validateProgram,
  type Program,
} from '@mmp/program';
import { JSON_BODY_LIMIT_BYTES, ProgramSync, Route } from '@mmp/server';
import { Controller, Get, HttpCode, Logger, Post, Put, Req, Res } from '@nestjs/common';
import { createTwoFilesPatch } from 'diff';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { JourneyMapQuery } from '../store/journey-map.query';
import {
  getProgramRoute,
  putProgramRoute,
  validateProgramRoute,
  type ProgramValidation,
} from './program.routes';

/** How validation messages name a program sent over HTTP: `request body:14:8`. */
const SOURCE_NAME = 'request body';

export interface ProgramReplaced {
  version: string;
  journeys: { key: string; version: string }[];
}

/**
 * GET/PUT /v1/program (SPEC section 5). A PUT is validated exactly as the file is at start-up
 * (YAML with line and column, or JSON), announced to every service process (ProgramSync), then
 * in force here at once: new entrants get the new journey versions while in-flight instances
 * finish on the version they entered, which is stored with them.
 */
@Controller('v1/program')
export class ProgramController {
  private readonly logger = new Logger(ProgramController.name);

  constructor(
    private readonly program: ProgramStore,
    private readonly sync: ProgramSync,
    private readonly map: JourneyMapQuery,
  ) {}

  /** The program in force: YAML when asked for (`Accept: application/yaml`), else JSON; `ETag` is its version. */
  @Get()
  @Route(getProgramRoute)
  read(@Req() request: Request, @Res() response: Response): void {
    const program = this.program.current();
    response.setHeader('ETag', `"${programVersion(program)}"`);
    if (request.accepts(['application/json', 'application/yaml', 'text/yaml']) === 'application/json') {
      response.json(program);
      return;
    }
    response.type('application/yaml').send(stringifyProgram(program));
  }

  @Put()
  @Route(putProgramRoute)
  @HttpCode(200)
  async replace(@Req() request: Request): Promise<ProgramReplaced> {
    const next = await programOf(request);
    // Announced first: when the bus cannot take it, nothing changed anywhere and the caller retries.
    await this.sync.announce(next);
    this.program.replace(next);
    const version = programVersion(next);
    this.logger.log(`program replaced: version ${version}`);
    return {
      version,
      journeys: next.journeys.map((journey) => ({ key: journey.key, version: journeyVersion(journey) })),
    };
  }

  /**
   * What a PUT of this body would do, without doing it: every problem at its line and column,
   * or the diff and, per journey, how many in-flight customers stay on the version they entered.
   */
  @Post('validate')
  @Route(validateProgramRoute)
  @HttpCode(200)
  async validate(@Req() request: Request): Promise<z.infer<typeof ProgramValidation>> {
    const current = this.program.current();
    const currentVersion = programVersion(current);
    let next: Program;
    try {
      next = await programOf(request);
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation_failed')
        return { valid: false, errors: [...(error.details ?? [])], currentVersion };
      throw error;
    }
    const before = new Map(current.journeys.map((j) => [j.key, journeyVersion(j)]));
    const after = new Map(next.journeys.map((j) => [j.key, journeyVersion(j)]));
    const keys = [...new Set([...after.keys(), ...before.keys()])];
    const staying = await this.map.inFlightOffVersion(
      new Map(keys.map((key) => [key, after.get(key) ?? null])),
    );
    return {
      valid: true,
      errors: [],
      currentVersion,
      version: programVersion(next),
      diff: createTwoFilesPatch('current', 'candidate', stringifyProgram(current), stringifyProgram(next)),
      journeys: keys.map((key) => {
        const was = before.get(key) ?? null;
        const will = after.get(key) ?? null;
        return {
          key,
          change: was === null ? 'added' : will === null ? 'removed' : was === will ? 'unchanged' : 'changed',
          currentVersion: was,
          version: will,
          inFlightStayingOnCurrent: staying.get(key) ?? 0,
        };
      }),
    };
  }
}

/** A JSON body arrives parsed; YAML (any other type) is read here and parsed with line numbers. */
async function programOf(request: Request): Promise<Program> {
  if (request.is('application/json')) return validateProgram(request.body, { fileName: SOURCE_NAME });
  return parseProgram(await readText(request), { fileName: SOURCE_NAME });
}

async function readText(request: Request): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > JSON_BODY_LIMIT_BYTES)
      throw new AppError('payload_too_large', `a program may be at most ${JSON_BODY_LIMIT_BYTES} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

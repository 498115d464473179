import type { Channel } from '@mmp/contracts';
import { ProgramStore } from '@mmp/program';
import { Route } from '@mmp/server';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { listTemplatesRoute, previewTemplateRoute } from './messages.routes';
import {
  PreviewTemplateUsecase,
  type PreviewResult,
} from '../usecases/preview-template/preview-template.usecase';

@Controller('v1/templates')
export class TemplatesController {
  constructor(
    private readonly preview: PreviewTemplateUsecase,
    private readonly program: ProgramStore,
  ) {}

  @Get()
  @Route(listTemplatesRoute)
  list(): { items: { name: string; channel: Channel }[] } {
    return {
      items: Object.entries(this.program.current().templates).map(([name, template]) => ({
        name,
        channel: template.channel,
      })),
    };
  }

  /** The rendered subject and bodies for a customer or a sample profile; with `sendTo`, a test send. */
  @Post(':name/preview')
  @Route(previewTemplateRoute)
  @HttpCode(200)
  async render(@Param('name') name: string, @Body() body: unknown): Promise<PreviewResult> {
    return this.preview.execute(name, body);
  }
}

import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  PreviewTemplateUsecase,
  type PreviewResult,
} from '../usecases/preview-template/preview-template.usecase';

@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly preview: PreviewTemplateUsecase) {}

  /** The rendered subject and bodies for a customer or a sample profile; with `sendTo`, a test send. */
  @Post(':name/preview')
  @HttpCode(200)
  async render(@Param('name') name: string, @Body() body: unknown): Promise<PreviewResult> {
    return this.preview.execute(name, body);
  }
}

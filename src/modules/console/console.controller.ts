import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CONSOLE_PATH } from './console-assets.js';

/** The service's home page is the console. */
@ApiExcludeController()
@Controller()
export class ConsoleController {
  @Get()
  @Redirect(`${CONSOLE_PATH}/`, 302)
  home(): void {}
}

import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { MESSAGE_BUS, type MessageBus } from '../message-bus';

/** Stops the bus when the application closes, for apps that publish without a BusServer. */
@Injectable()
class BusShutdown implements OnApplicationShutdown {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  async onApplicationShutdown(): Promise<void> {
    await this.bus.stop();
  }
}

@Module({})
export class BusModule {
  /** Makes `bus` injectable everywhere as MESSAGE_BUS; one bus per process. */
  static forRoot(bus: MessageBus): DynamicModule {
    return {
      module: BusModule,
      global: true,
      providers: [{ provide: MESSAGE_BUS, useValue: bus }, BusShutdown],
      exports: [MESSAGE_BUS],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LedgerModule, type Clock, type LedgerConfig } from '@app/ledger';
import { AccountsController } from './controllers/accounts.controller';
import { HealthController } from './controllers/health.controller';
import { PlatformController } from './controllers/platform.controller';
import { LedgerExceptionFilter } from './http/exception.filter';

@Module({})
export class AppModule {
  static forRoot(config: LedgerConfig, options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [LedgerModule.forRoot(config, options)],
      controllers: [AccountsController, PlatformController, HealthController],
      providers: [{ provide: APP_FILTER, useClass: LedgerExceptionFilter }],
    };
  }
}

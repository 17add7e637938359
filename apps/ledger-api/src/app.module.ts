import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { ApiKeyRing } from '@app/access';
import { LedgerModule, type Clock, type LedgerConfig } from '@app/ledger';
import { AccountsController } from './accounts/accounts.controller';
import { AuditController } from './audit/audit.controller';
import { HealthController } from './health/health.controller';
import { ReadModelsService } from './http/read-models.service';
import { PlatformController } from './platform/platform.controller';
import { ReadsController } from './reads/reads.controller';
import { RiskController } from './risk/risk.controller';
import { LedgerExceptionFilter } from './http/exception.filter';
import { AccessGuard, API_KEY_RING } from './security/access.guard';
import { RateLimitGuard } from './security/rate-limit.guard';

export interface AppModuleOptions {
  readonly clock?: Clock;
  readonly keyRing: ApiKeyRing;
}

@Module({})
export class AppModule {
  static forRoot(config: LedgerConfig, options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [LedgerModule.forRoot(config, { clock: options.clock })],
      controllers: [AccountsController, PlatformController, ReadsController, AuditController, HealthController, RiskController],
      providers: [
        { provide: API_KEY_RING, useValue: options.keyRing },
        ReadModelsService,
        { provide: APP_FILTER, useClass: LedgerExceptionFilter },
        // Guards run in this order: who is calling (401/403), then how often (429).
        { provide: APP_GUARD, useClass: AccessGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}

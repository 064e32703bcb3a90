import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AuthModule } from './auth/auth.module';
import { CalendarModule } from './calendar/calendar.module';
import { loggerParams } from './common/logging';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CryptoModule } from './crypto/crypto.module';
import { EnvelopeUpgradeBootstrap } from './crypto/envelope-upgrade.bootstrap';
import { dataSourceOptions } from './database/data-source.options';
import { EmulatorModule } from './emulator/emulator.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UsersModule } from './users/users.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string, logStream?: DestinationStream): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config, logStream)),
        // Before AuthModule: its guard must run before the session guard, so refused requests count.
        RateLimitModule,
        CryptoModule,
        MetricsModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, config.databasePoolMode), migrationsRun: true }),
        UsersModule,
        AuthModule,
        CalendarModule,
        HealthModule,
        // The built-in Google exists only in local mode; config refuses local mode in production.
        ...(config.google.emulator && !config.production ? [EmulatorModule] : []),
        // The users/me page, when the front end is this service (FRONTEND_URL's origin is PUBLIC_URL's).
        ...(config.servesFrontend ? [WebModule] : []),
      ],
      // The service (not the CLI, whose keys:rotate does it itself) upgrades v1 envelopes as it starts.
      providers: [EnvelopeUpgradeBootstrap],
    };
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { CryptoModule } from '../crypto/crypto.module';
import { dataSourceOptions } from '../database/data-source.options';
import { MetricsModule } from '../metrics/metrics.module';
import { UsersModule } from '../users/users.module';

/** What the operator commands need: the database and the services, no HTTP. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        CryptoModule,
        MetricsModule,
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, config.databasePoolMode), migrationsRun: true, logging: false }),
        UsersModule,
        AuthModule,
      ],
    };
  }
}

import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { installKeyRing } from './encrypted-column.transformer';
import { KeyRing } from './key-ring';

@Global()
@Module({
  providers: [
    {
      provide: KeyRing,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const keyRing = new KeyRing(config.encryptionKeys);
        installKeyRing(keyRing);
        return keyRing;
      },
    },
  ],
  exports: [KeyRing],
})
export class CryptoModule {}

import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { installKeyRing } from './encrypted-column.transformer';
import { KeyRing } from './key-ring';
import { KeyRotationService } from './key-rotation.service';

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
    KeyRotationService,
  ],
  exports: [KeyRing, KeyRotationService],
})
export class CryptoModule {}

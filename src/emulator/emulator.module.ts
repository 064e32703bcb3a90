import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EmulatorController } from './emulator.controller';
import { EmulatorStateFile } from './emulator-state.file';
import { EmulatorState, GoogleEmulator } from './google-emulator';

function createEmulator(config: AppConfig): GoogleEmulator {
  const file = new EmulatorStateFile(config.dataDir);
  let state: EmulatorState | undefined;
  try {
    state = file.load();
  } catch {
    new Logger('GoogleEmulator').warn(`Unreadable ${file.path}: starting the emulator afresh (linked accounts must reconnect)`);
  }
  const emulator = new GoogleEmulator({
    issuer: config.google.issuers[0],
    clients: [{ clientId: config.google.clientId, clientSecret: config.google.clientSecret, redirectUris: [config.google.callbackUrl] }],
    state,
    onStateChange: (next) => file.save(next),
  });
  if (!state) file.save(emulator.state());
  return emulator;
}

/** The local-mode Google, mounted under EMULATOR_PATH. AppModule imports it only when config.google.emulator. */
@Module({
  controllers: [EmulatorController],
  providers: [{ provide: GoogleEmulator, useFactory: createEmulator, inject: [AppConfig] }],
})
export class EmulatorModule {}

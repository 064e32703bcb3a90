import { Logger, Module } from '@nestjs/common';
import { AppConfig, generateWebhookSecret, LOCAL_WEBHOOKS_PATH } from '../config/app-config';
import type { EmulatorConfig } from '../config/emulator-config';
import { EmulatorController } from './emulator.controller';
import { EmulatorStateFile } from './emulator-state.file';
import { EmulatorState, GoogleEmulator } from './google-emulator';
import { LocalWebhookInbox } from './local-webhook-inbox';
import { LocalWebhooksController } from './local-webhooks.controller';

function createEmulator(config: AppConfig): GoogleEmulator {
  const settings = config.emulator!;
  const logger = new Logger('GoogleEmulator');
  const file = new EmulatorStateFile(config.dataDir);
  let state: EmulatorState | undefined;
  try {
    state = file.load();
  } catch {
    logger.warn(`Unreadable ${file.path}: starting the emulator afresh (linked accounts must reconnect)`);
  }
  const emulator = new GoogleEmulator({
    issuer: settings.issuer,
    baseUrl: settings.url,
    clients: [
      { clientId: config.google.clientId, clientSecret: config.google.clientSecret, redirectUris: [config.google.callbackUrl], name: settings.appName },
      ...settings.clients,
    ],
    state,
    onStateChange: (next) => file.save(next),
  });
  if (!state) file.save(emulator.state());
  announce(logger, settings);
  if (config.webhook?.local) {
    logger.log(`Webhooks: WEBHOOK_URL is unset, so they go to the local receiver; see them at ${config.publicUrl}${LOCAL_WEBHOOKS_PATH}`);
  }
  return emulator;
}

/** Local mode only: what another app on this machine needs to sign in through the emulator. */
function announce(logger: Logger, settings: EmulatorConfig): void {
  logger.log(`Google emulator at ${settings.url} (discovery: ${settings.url}/.well-known/openid-configuration, ID tokens' iss: ${settings.issuer})`);
  if (settings.clients.length === 0)
    logger.log('Google emulator: register your own app as a client with GOOGLE_EMULATOR_CLIENTS (README, "Your app on the emulator")');
  for (const client of settings.clients) {
    logger.log(
      `Google emulator client "${client.name}": client_id=${client.clientId} client_secret=${client.clientSecret} redirect_uris=${client.redirectUris.join(' ')}`,
    );
  }
}

/** Verifies with the local receiver's secret; with a WEBHOOK_URL of one's own the receiver refuses everything, and any key will do. */
const createInbox = (config: AppConfig) => new LocalWebhookInbox(config.webhook?.local ? config.webhook.secret : generateWebhookSecret());

/**
 * The local-mode Google, mounted under EMULATOR_PATH, and the local webhook receiver page
 * (LOCAL_WEBHOOKS_PATH). AppModule imports it only when config.google.emulator.
 */
@Module({
  controllers: [EmulatorController, LocalWebhooksController],
  providers: [
    { provide: GoogleEmulator, useFactory: createEmulator, inject: [AppConfig] },
    { provide: LocalWebhookInbox, useFactory: createInbox, inject: [AppConfig] },
  ],
})
export class EmulatorModule {}

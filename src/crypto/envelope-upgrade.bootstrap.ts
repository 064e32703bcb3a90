import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { KeyRotationService } from './key-rotation.service';
import { SKIP_REASONS } from './reseal';

/**
 * Upgrades v1 envelopes to v2 (bound to their row) when the service starts, until one pass has
 * completed. It runs before any request or background job (module init comes before bootstrap and
 * listen), so nothing ever needs to open a v1 value; later starts only check that it is done.
 */
@Injectable()
export class EnvelopeUpgradeBootstrap implements OnModuleInit {
  private readonly logger = new Logger('EnvelopeUpgrade');

  constructor(private readonly rotation: KeyRotationService) {}

  async onModuleInit(): Promise<void> {
    const report = await this.rotation.upgradeLegacy();
    if (!report) return;
    this.logger.log(`Upgraded ${report.upgraded} v1 value(s) to v2, bound to their row`);
    const groups = new Map<string, number>();
    for (const { table, column, keyId, reason } of report.skipped) {
      const key = `${table}.${column}|${keyId ?? 'unknown'}|${reason}`;
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    for (const [key, count] of groups) {
      const [where, keyId, reason] = key.split('|') as [string, string, keyof typeof SKIP_REASONS];
      this.logger.warn({ column: where, keyId, count }, `${count} value(s) in ${where} (key id ${keyId}) were not upgraded: ${SKIP_REASONS[reason]}`);
    }
  }
}

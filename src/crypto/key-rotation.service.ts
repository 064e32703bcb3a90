import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EncryptedColumnTransformer } from './encrypted-column.transformer';
import { KeyRing } from './key-ring';
import { EncryptionKeyMissingError } from './token-cipher';

const BATCH = 500;

interface EncryptedColumn {
  table: string;
  column: string;
  context: string;
}

export interface RotationReport {
  reencrypted: number;
  /** Rows that changed while we worked: left alone (the next run picks them up if still needed). */
  skipped: number;
  /** Values sealed with a key id that ENCRYPTION_KEYS no longer has. */
  unreadable: Array<{ table: string; column: string; keyId: string; count: number }>;
}

/**
 * Re-encrypts every encrypted value that is not under the primary key. Batched and keyed by id,
 * so it is resumable (a rerun only finds what is left) and safe beside a running service: each
 * update is a compare-and-swap on the old ciphertext, so a row changed meanwhile is never overwritten.
 */
@Injectable()
export class KeyRotationService {
  private readonly logger = new Logger(KeyRotationService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
  ) {}

  encryptedColumns(): EncryptedColumn[] {
    return this.dataSource.entityMetadatas.flatMap((entity) =>
      entity.columns
        .filter((column) => (column.transformer as EncryptedColumnTransformer | undefined)?.encryptionContext)
        .map((column) => ({
          table: entity.tableName,
          column: column.databaseName,
          context: (column.transformer as EncryptedColumnTransformer).encryptionContext,
        })),
    );
  }

  async rotate(): Promise<RotationReport> {
    const report: RotationReport = { reencrypted: 0, skipped: 0, unreadable: [] };
    for (const column of this.encryptedColumns()) await this.rotateColumn(column, report);
    return report;
  }

  private async rotateColumn(target: EncryptedColumn, report: RotationReport): Promise<void> {
    const { table, column, context } = target;
    const current = `v1:${this.keyRing.primaryKeyId}:%`;
    const missing = new Map<string, number>();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: Array<{ id: string; value: string }> = await this.dataSource.query(
        `SELECT id, "${column}" AS value FROM "${table}" WHERE id > $1 AND "${column}" IS NOT NULL AND "${column}" NOT LIKE $2 ORDER BY id LIMIT ${BATCH}`,
        [after, current],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      for (const row of rows) {
        let sealed: string;
        try {
          sealed = this.keyRing.encrypt(this.keyRing.decrypt(row.value, context), context);
        } catch (error) {
          if (!(error instanceof EncryptionKeyMissingError)) throw error;
          missing.set(error.keyId, (missing.get(error.keyId) ?? 0) + 1);
          continue;
        }
        const result: [unknown[], number] = await this.dataSource.query(`UPDATE "${table}" SET "${column}" = $1 WHERE id = $2 AND "${column}" = $3`, [
          sealed,
          row.id,
          row.value,
        ]);
        if (result[1] === 1) report.reencrypted += 1;
        else report.skipped += 1;
      }
      this.logger.log(`${table}.${column}: ${report.reencrypted} re-encrypted so far`);
    }
    for (const [keyId, count] of missing) report.unreadable.push({ table, column, keyId, count });
  }
}

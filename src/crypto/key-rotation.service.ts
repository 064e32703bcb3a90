import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EncryptedColumnTransformer } from './encrypted-column.transformer';
import { EncryptionUpgrade } from './encryption-upgrade.entity';
import { KeyRing } from './key-ring';
import { reseal, Resealed, SkipReason } from './reseal';
import { CURRENT_VERSION, envelopeKeyId, LEGACY_VERSION } from './token-cipher';

// Rows read per step of the primary-key walk (only the values that need work travel); their updates go in one statement.
const BATCH = 2000;
/** The upgrade of v1 envelopes (bound to their column) to v2 (bound to their row too). */
export const ROW_BINDING_UPGRADE = 'v2_row_binding';

interface Selection {
  prefix: string;
  matching: boolean;
}

/** A value to replace in one row: sealed again, if the row still holds `previous` and `owner`. */
interface Swap {
  id: string;
  owner: string;
  sealed: string;
  previous: string;
  upgraded: boolean;
}

interface EncryptedColumn {
  table: string;
  column: string;
  context: string;
  ownerColumn: string;
}

/** A value left as it was: where it is and its key id, never the value. */
export interface SkippedValue {
  table: string;
  column: string;
  id: string;
  keyId: string | null;
  reason: SkipReason;
}

export interface RotationReport {
  reencrypted: number;
  /** Of those, v1 values upgraded to v2. */
  upgraded: number;
  /** Rows that changed while we worked: left alone (the next run picks them up if still needed). */
  changedMeanwhile: number;
  /** Values that could not be decrypted: left as they are, each reported. */
  skipped: SkippedValue[];
}

/**
 * Re-encrypts stored values under the primary key, each bound to its column and row. Batched and
 * keyed by id, so it is resumable (a rerun only finds what is left) and safe beside a running
 * service: each update is a compare-and-swap on the old ciphertext and the row's owner, so a row
 * changed meanwhile is never overwritten. A value that cannot be decrypted is skipped and reported.
 *
 * v1 values are upgraded to v2 only until one pass over every column has finished (recorded in
 * `encryption_upgrades`); from then on a v1 value is refused. A v1 value found in more than one row
 * was copied (nonces are random, so no two sealings are equal): it is refused even during the upgrade.
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
        .map((column) => {
          const transformer = column.transformer as EncryptedColumnTransformer;
          return { table: entity.tableName, column: column.databaseName, context: transformer.encryptionContext, ownerColumn: transformer.ownerColumn };
        }),
    );
  }

  /** keys:rotate: every value that is not a v2 envelope under the primary key. */
  rotate(): Promise<RotationReport> {
    return this.pass({ prefix: `${CURRENT_VERSION}:${this.keyRing.primaryKeyId}:`, matching: false });
  }

  /** At start-up, until it has once completed: every v1 value, upgraded to v2 in its row. */
  async upgradeLegacy(): Promise<RotationReport | undefined> {
    if (await this.legacyUpgradeDone()) return undefined;
    return this.pass({ prefix: `${LEGACY_VERSION}:`, matching: true });
  }

  /** Every value that starts (`matching`) or does not start with `prefix`. */
  private async pass(selection: Selection): Promise<RotationReport> {
    const upgradeLegacy = !(await this.legacyUpgradeDone());
    const report: RotationReport = { reencrypted: 0, upgraded: 0, changedMeanwhile: 0, skipped: [] };
    for (const column of this.encryptedColumns()) await this.rotateColumn(column, selection, upgradeLegacy, report);
    if (upgradeLegacy) await this.dataSource.createQueryBuilder().insert().into(EncryptionUpgrade).values({ name: ROW_BINDING_UPGRADE }).orIgnore().execute();
    return report;
  }

  private legacyUpgradeDone(): Promise<boolean> {
    return this.dataSource.getRepository(EncryptionUpgrade).exists({ where: { name: ROW_BINDING_UPGRADE } });
  }

  private async rotateColumn(target: EncryptedColumn, selection: Selection, upgradeLegacy: boolean, report: RotationReport): Promise<void> {
    const { table, column, context, ownerColumn } = target;
    // One scan that stops at the first value needing work: nothing to do costs no walk.
    const [any] = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM "${table}" WHERE ${selection.matching ? '' : 'NOT '}starts_with("${column}", $1) LIMIT 1`,
      [selection.prefix],
    );
    if (!any) return;
    const copied = upgradeLegacy ? await this.copiedLegacyValues(target) : new Set<string>();
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // Walks the primary key a batch at a time (each batch an index range, the whole pass one walk
      // of the table) and sends back only the values that need work.
      const rows: Array<{ id: string; value: string | null; owner: string | null }> = await this.dataSource.query(
        `SELECT id::text AS id, "${ownerColumn}"::text AS owner,
                CASE WHEN ${selection.matching ? '' : 'NOT '}starts_with("${column}", $2) THEN "${column}" END AS value
           FROM "${table}" WHERE id > $1 ORDER BY id LIMIT ${BATCH}`,
        [after, selection.prefix],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      const updates: Swap[] = [];
      for (const row of rows) {
        if (row.value === null) continue;
        // A row without an owner cannot hold a value bound to it.
        const outcome: Resealed =
          row.owner === null
            ? { skipped: 'damaged', keyId: envelopeKeyId(row.value) }
            : reseal(this.keyRing, row.value, { column: context, owner: row.owner }, upgradeLegacy && !copied.has(row.value));
        if ('skipped' in outcome) report.skipped.push({ table, column, id: row.id, keyId: outcome.keyId ?? null, reason: outcome.skipped });
        else updates.push({ id: row.id, owner: row.owner!, sealed: outcome.sealed, previous: row.value, upgraded: outcome.upgraded });
      }
      if (updates.length > 0) {
        await this.swap(target, updates, report);
        this.logger.log(`${table}.${column}: ${report.reencrypted} re-encrypted so far`);
      }
    }
  }

  /** One compare-and-swap UPDATE for the batch: a row whose value or owner changed meanwhile is left alone. */
  private async swap(target: EncryptedColumn, updates: Swap[], report: RotationReport): Promise<void> {
    const { table, column, ownerColumn } = target;
    // For UPDATE … RETURNING, TypeORM's postgres driver answers [rows, affected].
    const [changed]: [Array<{ id: string }>, number] = await this.dataSource.query(
      `UPDATE "${table}" AS t SET "${column}" = v.sealed
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS v(id, owner, sealed, previous)
        WHERE t.id = v.id AND t."${ownerColumn}"::text = v.owner AND t."${column}" = v.previous
        RETURNING t.id::text AS id`,
      [
        updates.map((update) => update.id),
        updates.map((update) => update.owner),
        updates.map((update) => update.sealed),
        updates.map((update) => update.previous),
      ],
    );
    const swapped = new Set(changed.map((row) => row.id));
    for (const update of updates) {
      if (!swapped.has(update.id)) report.changedMeanwhile += 1;
      else {
        report.reencrypted += 1;
        if (update.upgraded) report.upgraded += 1;
      }
    }
  }

  /** v1 values present in more than one row of the column: copies, never upgraded. */
  private async copiedLegacyValues(target: EncryptedColumn): Promise<Set<string>> {
    const rows: Array<{ value: string }> = await this.dataSource.query(
      `SELECT "${target.column}" AS value FROM "${target.table}" WHERE starts_with("${target.column}", $1) GROUP BY 1 HAVING count(*) > 1`,
      [`${LEGACY_VERSION}:`],
    );
    return new Set(rows.map((row) => row.value));
  }
}

import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { SessionsService } from '../auth/sessions/sessions.service';
import { CliModule } from './cli.module';
import { AppConfig, generateEncryptionKey, loadConfig } from '../config/app-config';
import { ConfigurationError } from '../config/environment';
import { KeyRing } from '../crypto/key-ring';
import { KeyRotationService } from '../crypto/key-rotation.service';
import { SKIP_REASONS } from '../crypto/reseal';
import { describeError } from '../database/database-error';
import { EmbeddedDatabase } from '../database/embedded-postgres';
import { UsersService } from '../users/users.service';
import { MIGRATION_COMMANDS, withDataSource } from './migration.commands';

const USAGE = `Usage: npm run cli -- <command>   (in the image: node dist/src/cli/main.js <command>)
  keys:generate                      print a new keyId:base64key for ENCRYPTION_KEYS
  keys:rotate                        re-encrypt every stored secret with the first key of ENCRYPTION_KEYS
  users:create --email E [--admin]   create (or promote) a user
  sessions:create --email E          print a session token for that user (last line)
  migration:run                      apply the pending migrations
  migration:revert                   undo the newest applied migration`;

class UsageError extends Error {}

type Command = (context: INestApplicationContext, options: Record<string, string | boolean | undefined>) => Promise<void>;

const requireEmail = (options: Record<string, unknown>): string => {
  const email = options.email;
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError('--email must be an email address');
  return email;
};

const COMMANDS: Record<string, Command> = {
  'keys:rotate': async (context) => {
    const report = await context.get(KeyRotationService).rotate();
    // Where each undecryptable value is and its key id: never the value.
    for (const { table, column, id, keyId, reason } of report.skipped) {
      console.error(`Skipped ${table}.${column} row ${id} (key id ${keyId ? `"${keyId}"` : 'unknown'}): ${SKIP_REASONS[reason]}`);
    }
    if (report.skipped.length) console.error(`${report.skipped.length} value(s) could not be decrypted and were left as they are`);
    if (report.changedMeanwhile) console.log(`${report.changedMeanwhile} value(s) changed while rotating and were left alone; run keys:rotate again to finish`);
    if (report.upgraded) console.log(`Upgraded ${report.upgraded} v1 value(s) to v2, bound to their row`);
    console.log(`Re-encrypted ${report.reencrypted} value(s) with key ${context.get(KeyRing).primaryKeyId}`);
    if (report.skipped.length) process.exitCode = 1;
  },
  'users:create': async (context, options) => {
    const { user, created } = await context.get(UsersService).createOrPromote({ email: requireEmail(options), admin: options.admin === true });
    console.log(`${created ? 'Created' : 'Updated'} user ${user.email} (${user.id}), role ${context.get(UsersService).roleOf(user)}`);
  },
  'sessions:create': async (context, options) => {
    const email = requireEmail(options);
    const user = await context.get(UsersService).findByEmail(email);
    if (!user) throw new UsageError(`No user with email ${email}: create one with users:create --email ${email}`);
    const session = await context.get(SessionsService).create(user.id);
    console.log(`Session for ${user.email}, valid for ${session.expiresIn} s. Use it as "Authorization: Bearer <token>":`);
    console.log(session.token);
  },
};

async function withContext(config: AppConfig, run: (context: INestApplicationContext) => Promise<void>): Promise<void> {
  await withDatabase(config, async (databaseUrl) => {
    const context = await NestFactory.createApplicationContext(CliModule.forRoot(config, databaseUrl), { logger: ['error', 'warn'] });
    try {
      await run(context);
    } finally {
      await context.close();
    }
  });
}

/** DATABASE_URL, else the embedded database of a service running from the same DATA_DIR, else one started for this command. */
async function withDatabase(config: AppConfig, run: (databaseUrl: string) => Promise<void>): Promise<void> {
  const running = config.databaseUrl ?? EmbeddedDatabase.runningUrl(config.dataDir);
  const embedded = running ? undefined : new EmbeddedDatabase(config.dataDir);
  try {
    await run(running ?? (await embedded!.start()));
  } finally {
    await embedded?.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'keys:generate') {
    console.log(generateEncryptionKey());
    return;
  }
  const migration = command ? MIGRATION_COMMANDS[command] : undefined;
  if (migration) {
    if (rest.length) throw new UsageError(`${command} takes no options`);
    const config = loadConfig();
    await withDatabase(config, (databaseUrl) => withDataSource(databaseUrl, config.databasePoolMode, migration));
    return;
  }
  const handler = command ? COMMANDS[command] : undefined;
  if (!handler) throw new UsageError(command ? `Unknown command ${command}` : 'No command given');
  const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, admin: { type: 'boolean' } }, strict: true });
  await withContext(loadConfig(), (context) => handler(context, values));
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error instanceof ConfigurationError) console.error(error.message);
    else console.error(`Failed: ${describeError(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);

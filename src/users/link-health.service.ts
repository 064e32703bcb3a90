import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue';
import { GoogleAccessTokensService } from './google-access-tokens.service';
import { GoogleOAuth2User } from './google-oauth2-user.entity';

export const LINK_HEALTH_SWEEP_QUEUE = 'link-health-sweep';
export const LINK_HEALTH_CHECK_QUEUE = 'link-health-check';
const PAGE = 500;
/** Checks in progress at once per instance; each waits on Google for at most GOOGLE_HTTP_TIMEOUT_MS. */
const CHECK_WORKERS = 2;

interface LinkCheck {
  userId: string;
}

const DUE = `link.status = 'active' AND link.tokens_refreshed_at < now() - make_interval(days => :days)`;

/**
 * Link health (SPEC): a link whose tokens were not refreshed for GOOGLE_GRANT_CHECK_DAYS is refreshed
 * in the background, so that a grant Google no longer honours becomes needs_reauth (audited, and so
 * a webhook) before the person needs it. A sweep (one instance at a time) queues one check per due
 * link, at most one pending per link; a check is the refresh of an ordinary request, under the same
 * lease. A Google outage changes nothing: the link stays due and the next sweep queues it again.
 */
@Injectable()
export class LinkHealthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(LinkHealthService.name);

  constructor(
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly tokens: GoogleAccessTokensService,
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.grantCheckDays === 0) return;
    for (let worker = 0; worker < CHECK_WORKERS; worker += 1) {
      await this.jobs.work<LinkCheck>(LINK_HEALTH_CHECK_QUEUE, { pollingIntervalSeconds: 1 }, (job) => this.check(job.data.userId));
    }
    await this.jobs.every(LINK_HEALTH_SWEEP_QUEUE, this.config.grantCheckIntervalSeconds, () => this.sweep());
  }

  /** Queues a check for every due link, oldest first, a page at a time along the partial index. */
  async sweep(): Promise<number> {
    // The cursor stays text: a JavaScript Date would drop the microseconds and repeat a row forever.
    let cursor = { at: '-infinity', id: '00000000-0000-0000-0000-000000000000' };
    let queued = 0;
    for (;;) {
      const page = await this.links
        .createQueryBuilder('link')
        .select('link.id', 'id')
        .addSelect('link.user_id', 'userId')
        .addSelect('link.tokens_refreshed_at::text', 'at')
        .where(DUE, { days: this.config.grantCheckDays })
        .andWhere('(link.tokens_refreshed_at, link.id) > (CAST(:at AS timestamptz), CAST(:id AS uuid))', cursor)
        .orderBy('link.tokens_refreshed_at')
        .addOrderBy('link.id')
        .limit(PAGE)
        .getRawMany<{ id: string; userId: string; at: string }>();
      await this.jobs.insert(page.map(({ userId }) => ({ name: LINK_HEALTH_CHECK_QUEUE, data: { userId }, singletonKey: userId, retryLimit: 0 })));
      queued += page.length;
      if (page.length < PAGE) break;
      cursor = { at: page[page.length - 1].at, id: page[page.length - 1].id };
    }
    if (queued > 0) this.logger.log({ links: queued }, 'Link health: queued checks for links not refreshed lately');
    return queued;
  }

  /**
   * Refreshes the link if it is still due. The access token read with that answer is the stale one:
   * a check that another request or instance has refreshed since finds a new token and calls no one.
   */
  async check(userId: string): Promise<void> {
    const link = await this.links
      .createQueryBuilder('link')
      .select(['link.userId', 'link.accessToken'])
      .where('link.user_id = :userId', { userId })
      .andWhere(DUE, { days: this.config.grantCheckDays })
      .getOne();
    if (!link?.accessToken) return;
    try {
      await this.tokens.accessToken(userId, { force: true, staleToken: link.accessToken.open(link.userId) });
      this.logger.log({ userId }, 'Link health: refreshed, Google still honours the grant');
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'google_reauth_required') this.logger.log({ userId }, 'Link health: Google no longer honours the grant; the link needs reauth');
      else if (error.code === 'google_unavailable') this.logger.warn({ userId }, 'Link health: Google could not be reached; the next sweep tries again');
      else this.logger.log({ userId, code: error.code }, 'Link health: not refreshed');
    }
  }
}

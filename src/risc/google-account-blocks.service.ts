import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { GoogleAccountBlock } from './google-account-block.entity';

/** Whether Google reported a Google account disabled (and not enabled since): sign-in refuses it. */
@Injectable()
export class GoogleAccountBlocksService {
  constructor(@InjectRepository(GoogleAccountBlock) private readonly blocks: Repository<GoogleAccountBlock>) {}

  isDisabled(googleUserId: string): Promise<boolean> {
    return this.blocks.existsBy({ googleUserId });
  }
}

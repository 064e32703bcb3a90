import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AppRequest } from '../../common/request-context';
import type { ProfileRow } from '../../users/user-profiles.service';

export const WITH_PROFILE = 'withProfile';

/**
 * The route answers with the signed-in user's profile: the session guard reads the session, the
 * user and their link's summary in one statement (users/me, asked on every page load), instead of
 * the session first and the profile after it. The session is still checked on every request.
 */
export const WithProfile = () => SetMetadata(WITH_PROFILE, true);

export type ProfiledRequest = AppRequest & { sessionProfile?: ProfileRow };

/** The row the session guard read for a `@WithProfile()` route. */
export const SessionProfile = createParamDecorator(
  (_: unknown, context: ExecutionContext): ProfileRow | undefined => context.switchToHttp().getRequest<ProfiledRequest>().sessionProfile,
);

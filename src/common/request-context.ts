import type { FastifyRequest } from 'fastify';

export type Role = 'user' | 'admin';

/** Who a request is authenticated as; set by the session guard. */
export interface Principal {
  userId: string;
  email: string;
  role: Role;
  sessionId: string;
  via: 'cookie' | 'bearer';
}

export type AppRequest = FastifyRequest & { principal?: Principal };

export const SESSION_COOKIE = 'sid';

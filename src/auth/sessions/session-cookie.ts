import type { FastifyReply } from 'fastify';
import { AppConfig } from '../../config/app-config';
import { hostCookie } from '../host-cookies';

/** `__Host-sid` on an https PUBLIC_URL, `sid` on http (local mode). */
export const sessionCookieName = (config: AppConfig): string => hostCookie('sid', config).name;

export function setSessionCookie(reply: FastifyReply, config: AppConfig, token: string): void {
  reply.setCookie(sessionCookieName(config), token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    path: '/',
    maxAge: config.sessionTtlSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply, config: AppConfig): void {
  reply.clearCookie(sessionCookieName(config), { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/' });
}

import type { FastifyInstance } from 'fastify';
import { DomainError } from './domain-error';

/** The nesting depth of a parsed JSON value, counted without recursion (it must not overflow itself). */
export function depthOf(value: unknown, stopAbove: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > stopAbove) return deepest;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** Refuses, before validation (and class-transformer's recursion) sees it, a body nested deeper than `maxDepth`. */
export function registerBodyDepthLimit(fastify: FastifyInstance, maxDepth: number): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (depthOf(request.body, maxDepth) > maxDepth) done(new DomainError('invalid_request', `The request body is nested more than ${maxDepth} levels deep`));
    else done();
  });
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_STATUS, ErrorCode } from '../../src/common/domain-error';
import { ROOT, startTestApp, TestApp } from '../support/test-app';

const DAY = 86_400_000;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Query parameters Swagger UI may pre-fill: none of them narrows what a route answers. */
const PRE_FILLED = ['limit', 'next', 'from', 'to'];

interface Operation {
  parameters?: Array<{ name: string; in: string; schema?: { example?: unknown } }>;
  responses: Record<
    string,
    { description?: string; headers?: Record<string, unknown>; content?: Record<string, { examples?: Record<string, { value: any }> }> }
  >;
  'x-browser-only'?: boolean;
}

describe('the OpenAPI document that Swagger UI shows (e2e)', () => {
  let app: TestApp;
  let document: { info: { title: string; version: string }; paths: Record<string, Record<string, Operation>> };
  let operations: Array<[string, Operation]>;

  beforeAll(async () => {
    app = await startTestApp();
    document = (await app.client().get('/api/docs-json')).json();
    operations = Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method): [string, Operation] => [`${method.toUpperCase()} ${path}`, item[method]]),
    );
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is "google-link API" at the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

    expect(document.info).toMatchObject({ title: 'google-link API', version });
  });

  it('shows, for every error status of every route, one example per documented code with its own status, code and message', () => {
    const messages = new Map<string, Set<string>>();
    // Readiness answers Terminus's own body, documented by Terminus, not the error shape; the RISC
    // receiver refuses a SET with RFC 8935's `{ err, description }`, as Google expects.
    const foreignShape = (name: string, status: string) => name.startsWith('GET /health/') || (name === 'POST /api/v1/google/risc' && status === '400');
    for (const [name, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses).filter(([status]) => Number(status) >= 400 && !foreignShape(name, status))) {
        const examples = Object.values(response.content?.['application/json']?.examples ?? {});
        const codes = examples.map(({ value }) => value.code as ErrorCode);

        expect({ name, status, documented: response.description }).toEqual({ name, status, documented: `code: ${codes.join(' | ')}` });
        for (const { value } of examples) {
          expect({ name, status, code: value.code, statusOfCode: ERROR_STATUS[value.code as ErrorCode], example: value.statusCode }).toEqual({
            name,
            status,
            code: value.code,
            statusOfCode: Number(status),
            example: Number(status),
          });
          expect(value.message).toEqual(expect.stringMatching(/\w/));
          messages.set(value.message, new Set([...(messages.get(value.message) ?? []), value.code]));
        }
      }
    }
    expect(messages.size).toBeGreaterThan(10);
    // A message belongs to one code: the old single example ("limit must not be greater than 100") is gone.
    expect([...messages].filter(([, codes]) => codes.size > 1)).toEqual([]);
  });

  it('pre-fills no parameter that would filter the answer (audit events show every event)', () => {
    const withExamples = operations.flatMap(([, operation]) =>
      (operation.parameters ?? []).filter((parameter) => parameter.schema?.example !== undefined).map((parameter) => parameter.name),
    );
    const auditUserId = document.paths['/api/v1/admin/audit-events'].get.parameters!.find((parameter) => parameter.name === 'userId');

    expect([...new Set(withExamples)].sort()).toEqual([...PRE_FILLED].sort());
    expect(auditUserId).toBeDefined();
    expect(auditUserId!.schema?.example).toBeUndefined();
  });

  it('pre-fills the out-of-office window as the coming 30 days, dated the day the document is served', () => {
    const parameters = document.paths['/api/v1/users/me/google/out-of-office'].get.parameters!;
    const example = (name: string) => String(parameters.find((parameter) => parameter.name === name)!.schema!.example);
    const today = new Date().toISOString().slice(0, 10);

    expect(example('from')).toBe(`${today}T00:00:00Z`);
    expect(Date.parse(example('to')) - Date.parse(example('from'))).toBe(30 * DAY);
  });

  it.each([
    ['/api/v1/auth/google', /Google's consent screen/],
    ['/api/v1/auth/google/callback', /\/users\/me\?google_link=/],
  ])('documents browser-only %s as a 302 with where it goes, never a 200', (path, location) => {
    const operation = document.paths[path].get;

    expect(operation['x-browser-only']).toBe(true);
    expect(operation.responses['200']).toBeUndefined();
    expect(operation.responses['302'].headers).toEqual({
      Location: { description: expect.stringMatching(location), schema: { type: 'string', format: 'uri' } },
    });
  });
});

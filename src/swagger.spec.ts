import type { OpenAPIObject } from '@nestjs/swagger';
import { EXAMPLES_WRITTEN_FOR, relativeExampleDates } from './swagger';

describe('relativeExampleDates', () => {
  const written: OpenAPIObject = {
    openapi: '3.0.0',
    info: { title: 'google-link API', version: '0.1.0', description: 'Written on 2026-12-01T00:00:00Z' },
    paths: {
      '/events': {
        get: {
          parameters: [{ name: 'from', in: 'query', schema: { type: 'string', example: `${EXAMPLES_WRITTEN_FOR}T00:00:00Z` } }],
          responses: {
            200: {
              description: '',
              content: { 'application/json': { examples: { one: { value: { start: '2026-12-03', at: '2026-11-25T09:30:00.000Z' } } } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Event: { type: 'object', properties: { end: { type: 'string', example: '2026-12-31T18:00:00+01:00' }, id: { type: 'string', example: 'x' } } },
      },
    },
  };

  it('moves example dates to the serving day, keeping their distances, times and offsets', () => {
    const served = relativeExampleDates(written, Date.parse('2027-03-10T15:45:00Z'));

    expect(served.paths['/events'].get!.parameters).toEqual([{ name: 'from', in: 'query', schema: { type: 'string', example: '2027-03-10T00:00:00Z' } }]);
    expect((served.paths['/events'].get!.responses[200] as any).content['application/json'].examples.one.value).toEqual({
      start: '2027-03-12',
      at: '2027-03-04T09:30:00.000Z',
    });
    expect((served.components!.schemas!.Event as any).properties).toEqual({
      end: { type: 'string', example: '2027-04-09T18:00:00+01:00' },
      id: { type: 'string', example: 'x' },
    });
  });

  it('leaves everything that is not an example alone, and the built document unchanged', () => {
    const before = JSON.stringify(written);

    const served = relativeExampleDates(written, Date.parse('2030-01-01T00:00:00Z'));

    expect(served.info).toEqual(written.info);
    expect(JSON.stringify(written)).toBe(before);
  });
});

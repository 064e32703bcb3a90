import { lastError } from './failed-webhooks.service';

describe('lastError', () => {
  it("keeps a serialized Error's message only: no stack, no cause", () => {
    const output = {
      name: 'DeliveryFailed',
      message: 'webhook receiver answered 503',
      stack: 'at deliver (/app/dist/x.js:1:1)',
      cause: { address: '10.0.0.7' },
    };
    expect(lastError(output)).toBe('webhook receiver answered 503');
  });

  it('cuts any URL to its origin and path, so a query-string credential never shows', () => {
    expect(lastError({ message: 'fetch https://hooks.example.com/in?token=s3cr3t#frag failed' })).toBe('fetch https://hooks.example.com/in failed');
    expect(lastError({ value: 'POST http://user:pw@10.0.0.7:8080/h?k=v' })).toBe('POST http://10.0.0.7:8080/h');
  });

  it("reads pg-boss's own failures ({ value }) and bounds the length", () => {
    expect(lastError({ value: { message: 'job failed by timeout in active state' } })).toBe('job failed by timeout in active state');
    expect(lastError(null)).toBeNull();
    expect(lastError({ value: 42 })).toBeNull();
    expect(lastError({ message: 'x'.repeat(500) })).toHaveLength(200);
  });
});

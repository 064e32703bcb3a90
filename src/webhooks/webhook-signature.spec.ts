import { Webhook } from 'standardwebhooks';
import { webhookHeaders } from './webhook-signature';

// The Standard Webhooks specification's published test vector (standard-webhooks/standard-webhooks).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('webhookHeaders', () => {
  it('signs the published test vector to its published signature', () => {
    const headers = webhookHeaders(VECTOR.secret, VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body);

    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature });
  });

  it('produces headers that a receiver verifies, and that fail for another body', () => {
    const body = '{"type":"google.linked"}';
    const headers = webhookHeaders(VECTOR.secret, 'evt-1', new Date(), body);
    const receiver = new Webhook(VECTOR.secret);

    expect(receiver.verify(body, headers)).toEqual({ type: 'google.linked' });
    expect(() => receiver.verify('{"type":"google.unlinked"}', headers)).toThrow();
  });
});

import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person } from '../support/google-flows';
import { startTestApp } from '../support/test-app';

describe('graceful shutdown (e2e)', () => {
  it('finishes an in-flight request after SIGTERM, refuses new connections, and exits 0', async () => {
    const google = await FakeGoogle.start();
    const app = await startTestApp(google.env());
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    try {
      const someone = await person(app);
      await linkGoogle(app, google, someone);
      google.fail('calendar', { delayMs: 800 });

      const inFlight = someone.browser.get('/api/v1/users/me/google/out-of-office');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = app.stop();
      const reply = await inFlight;
      const code = await exited;

      expect(reply.status).toBe(200);
      expect(code).toBe(0);
      await expect(fetch(`${app.url}/health/live`)).rejects.toThrow();
      expect(app.logs.some((line) => line.includes('SIGTERM'))).toBe(true);
    } finally {
      await app.close();
      await google.stop();
    }
  });
});

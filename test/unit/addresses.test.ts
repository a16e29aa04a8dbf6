import { describe, expect, it } from 'vitest';
import {
  channelOfAddress,
  normaliseEmail,
  normalisePhone,
  normaliseWebhookUrl,
} from '../../functions/core/addresses';

describe('normalisePhone', () => {
  it.each([
    ['+34 612 34 56 78', '+34612345678'],
    ['+34612345678', '+34612345678'],
    ['0034 612-34-56-78', '+34612345678'],
    ['+1 (415) 555-2671', '+14155552671'],
  ])('brings %j to E.164 %j', (raw, e164) => {
    // Act
    const result = normalisePhone(raw);

    // Assess
    expect(result).toEqual({ ok: true, address: e164 });
  });

  it.each([
    ['612345678', /international form/],
    ['+34 12', /not a valid phone number/],
    ['+999 1234567', /not a valid phone number/],
    ['', /required/],
    ['call me maybe', /international form/],
  ])('refuses %j without repeating it', (raw, reason) => {
    // Act
    const result = normalisePhone(raw);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toMatch(reason);
      if (raw) expect(result.message).not.toContain(raw);
    }
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases, so one mailbox is one subscriber', () => {
    // Act
    const result = normaliseEmail('  News.Desk@Example.ORG ');

    // Assess
    expect(result).toEqual({ ok: true, address: 'news.desk@example.org' });
  });

  it.each(['no-at-sign', 'a@b', '@example.org', 'a b@example.org', `${'x'.repeat(65)}@example.org`])(
    'refuses %j',
    (raw) => {
      // Act
      const result = normaliseEmail(raw);

      // Assess
      expect(result.ok).toBe(false);
    },
  );
});

describe('normaliseWebhookUrl', () => {
  const onAws = { allowLoopback: false };
  const embedded = { allowLoopback: true };

  it('takes an https URL to a public host', () => {
    // Act
    const result = normaliseWebhookUrl('https://hooks.example.org/herald?token=abc', onAws);

    // Assess
    expect(result).toEqual({ ok: true, address: 'https://hooks.example.org/herald?token=abc' });
  });

  it.each([
    ['http://hooks.example.org/h', /https/],
    ['https://169.254.169.254/latest/meta-data', /link-local/],
    ['https://10.0.0.8/h', /private/],
    ['https://[::ffff:127.0.0.1]/h', /loopback/],
    ['https://127.0.0.1/h', /loopback/],
    ['https://localhost/h', /loopback/],
    // The same hosts spelled with a trailing dot or capitals are the same hosts.
    ['https://localhost./h', /loopback/],
    ['https://LOCALHOST./h', /loopback/],
    ['https://127.0.0.1./h', /loopback/],
    ['https://hooks.localhost/h', /loopback/],
    ['https://169.254.169.254./latest/meta-data', /link-local/],
    ['https://metadata.google.internal./h', /public host/],
    ['https://metadata.google.internal/h', /public host/],
    ['https://user:pass@hooks.example.org/h', /password/],
    ['ftp://hooks.example.org/h', /https/],
    ['not a url', /not a URL/],
  ])('refuses %j on AWS', (raw, reason) => {
    // Act
    const result = normaliseWebhookUrl(raw, onAws);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(reason);
  });

  it('takes a loopback receiver, even over http, only where loopback is allowed', () => {
    // Act
    const allowed = normaliseWebhookUrl('http://127.0.0.1:8080/hook', embedded);
    const refused = normaliseWebhookUrl('http://127.0.0.1:8080/hook', onAws);

    // Assess
    expect(allowed).toEqual({ ok: true, address: 'http://127.0.0.1:8080/hook' });
    expect(refused.ok).toBe(false);
  });

  it('still refuses the metadata address where loopback is allowed', () => {
    // Act
    const result = normaliseWebhookUrl('http://169.254.169.254/', embedded);

    // Assess
    expect(result.ok).toBe(false);
  });
});

describe('channelOfAddress', () => {
  it('reads an @ as email and anything else as a phone number', () => {
    // Act
    const channels = ['a@example.org', '+34612345678'].map(channelOfAddress);

    // Assess
    expect(channels).toEqual(['email', 'sms']);
  });
});

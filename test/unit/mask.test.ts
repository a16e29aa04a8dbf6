import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, maskRecipient, maskUrl } from '../../functions/shared/mask';

const digitsOf = (s: string) => s.replace(/\D/g, '');

describe('maskPhone', () => {
  it.each([
    ['+34612345678', '+34•••••••78'],
    ['+34 612 34 56 78', '+34•••••••78'],
    ['+1 (415) 555-0100', '+14•••••••00'],
    ['0612345678', '06••••••78'],
    ['12345', '•••••'],
    ['+1', '••••'],
  ])('masks %s as %s', (phone, masked) => {
    // Act
    const out = maskPhone(phone);

    // Assess
    expect(out).toBe(masked);
  });

  it('never leaves the whole number, nor more than four of its digits, for any phone number', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.stringMatching(/^\d{6,15}$/), (plus, digits) => {
        const phone = `${plus ? '+' : ''}${digits}`;
        const out = maskPhone(phone);
        expect(out).not.toContain(digits);
        expect(digitsOf(out).length).toBeLessThanOrEqual(4);
        expect(digitsOf(out).length).toBeLessThan(digits.length);
      }),
    );
  });
});

describe('maskEmail', () => {
  it.each([
    ['news.desk@example.org', 'n•••@e•••.org'],
    ['a@b.co', 'a•••@b•••.co'],
    ['desk@localhost', 'd•••@l•••'],
    ['"odd@local"@example.org', '"•••@e•••.org'],
    ['no-at-sign', 'n•••'],
  ])('masks %s as %s', (email, masked) => {
    // Act
    const out = maskEmail(email);

    // Assess
    expect(out).toBe(masked);
  });

  it('never leaves the address, its local part or its host, for any address', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const out = maskEmail(email);
        const at = email.lastIndexOf('@');
        const local = email.slice(0, at);
        const host = email.slice(at + 1).split('.')[0] ?? '';
        expect(out).not.toContain(email);
        if (local.length > 1) expect(out).not.toContain(local);
        if (host.length > 1) expect(out).not.toContain(`@${host}`);
      }),
    );
  });
});

describe('maskRecipient', () => {
  it.each([
    ['x', '@cityPolice', '@cityPolice'],
    ['facebook', 'city-police', 'city-police'],
    ['instagram', 'citypolice', 'citypolice'],
    ['sms', '+34612345678', '+34•••••••78'],
    ['email', 'news.desk@example.org', 'n•••@e•••.org'],
    ['webhook', 'https://hooks.example.org/herald?token=s3cret', 'https://hooks.example.org/…'],
  ] as const)('on %s shows %s as %s', (channel, recipient, shown) => {
    // Act
    const out = maskRecipient(channel, recipient);

    // Assess
    expect(out).toBe(shown);
  });

  it('shows nothing of a webhook address it cannot parse', () => {
    expect(maskUrl('not a url with a token=abc')).toBe('•••');
  });
});

/**
 * The SES v2 email provider against a mocked SESv2Client: the raw MIME it sends is parsed back here, strictly,
 * by a reader written for this test (headers, nested multiparts, base64, RFC 2047 words), and each SES error
 * is classified.
 */
import {
  AccountSuspendedException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildMimeMessage,
  createEmailProvider,
  encodeHeaderValue,
} from '../../functions/channels/email/client';
import { type ChannelContent, type OutboundMessage, ProviderError } from '../../functions/ports';
import { RecordingLogger } from '../helpers/fakes';

const ses = mockClient(SESv2Client);
afterEach(() => {
  ses.reset();
});

const FROM = '"Agency alerts" <alerts@agency.example>';
const TO = 'news.desk@media.example';
const CAP = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>urn:herald:a1:2</identifier><headline>Nen desaparegut — actualització</headline></alert>
`;

type EmailContent = Extract<ChannelContent, { channel: 'email' }>;

function content(overrides: Partial<EmailContent> = {}): EmailContent {
  return {
    channel: 'email',
    subject: 'Missing child near the harbour',
    text: 'Last seen near the harbour wearing a red coat.\nCall 112.',
    html: '<p>Last seen near the harbour wearing a <b>red</b> coat.</p>',
    attachments: [
      { filename: 'alert.cap.xml', contentType: 'application/cap+xml; charset=utf-8', content: CAP },
    ],
    messageId: '<a1.v1@herald.agency.example>',
    ...overrides,
  };
}

function message(c: EmailContent = content(), overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    channel: 'email',
    alertId: 'a1',
    version: 1,
    recipient: TO,
    text: c.text,
    content: c,
    idempotencyKey: `a1:1:email:${TO}`,
    test: false,
    ...overrides,
  };
}

const live = () => new AbortController().signal;
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

// ---------------------------------------------------------------- a strict MIME reader, for these tests

interface Part {
  headers: Map<string, string>;
  body: string;
  parts: Part[];
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n').reduce<string[]>((lines, l) => {
    if (/^[ \t]/.test(l)) {
      expect(lines.length).toBeGreaterThan(0);
      lines[lines.length - 1] += l;
    } else lines.push(l);
    return lines;
  }, [])) {
    const colon = line.indexOf(':');
    expect(colon).toBeGreaterThan(0);
    const name = line.slice(0, colon).toLowerCase();
    expect(headers.has(name), `header ${name} appears once`).toBe(false);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

function parseMime(raw: string): Part {
  expect(raw).not.toMatch(/[^\r]\n/);
  const split = raw.indexOf('\r\n\r\n');
  expect(split).toBeGreaterThan(0);
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const type = headers.get('content-type') ?? 'text/plain';
  const parts: Part[] = [];
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="([^"]+)"/.exec(type)?.[1];
    expect(boundary).toBeDefined();
    const sections = body.split(`--${boundary}`);
    expect(sections.at(-1)?.startsWith('--')).toBe(true);
    for (const section of sections.slice(1, -1))
      parts.push(parseMime(section.replace(/^\r\n/, '').replace(/\r\n$/, '')));
  }
  for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  return { headers, body, parts };
}

function decoded(part: Part): string {
  expect(part.headers.get('content-transfer-encoding')).toBe('base64');
  for (const line of part.body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  return Buffer.from(part.body.replace(/\r\n/g, ''), 'base64').toString('utf8');
}

/** RFC 2047 B-words back to text; whitespace between adjacent words is dropped, as the RFC says. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/gi, (_, b64: string) =>
      Buffer.from(b64, 'base64').toString('utf8'),
    );
}

function sentRaw(): string {
  const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
  return Buffer.from(input.Content!.Raw!.Data!).toString('utf8');
}

// ---------------------------------------------------------------- tests

describe('createEmailProvider', () => {
  it('sends raw MIME with the configuration set: headers, text and HTML alternatives, the CAP attachment', async () => {
    // Prepare
    ses
      .on(SendEmailCommand)
      .resolves({ MessageId: '0102018f1a2b3c4d-11111111-2222-3333-4444-555555555555-000000' });
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'herald-events',
    });

    // Act
    const accepted = await provider.send(message(), live());

    // Assess
    expect(accepted).toEqual({
      providerMessageId: '0102018f1a2b3c4d-11111111-2222-3333-4444-555555555555-000000',
    });
    expect(provider).toMatchObject({ channel: 'email', mode: 'real' });
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: FROM,
      Destination: { ToAddresses: [TO] },
      ConfigurationSetName: 'herald-events',
    });
    const mail = parseMime(sentRaw());
    expect(mail.headers.get('from')).toBe(FROM);
    expect(mail.headers.get('to')).toBe(TO);
    expect(mail.headers.get('subject')).toBe('Missing child near the harbour');
    expect(mail.headers.get('message-id')).toBe('<a1.v1@herald.agency.example>');
    expect(mail.headers.get('mime-version')).toBe('1.0');
    expect(Number.isNaN(Date.parse(mail.headers.get('date')!))).toBe(false);
    expect(mail.headers.has('in-reply-to')).toBe(false);
    expect(mail.headers.get('content-type')).toMatch(/^multipart\/mixed;/);

    const [alternative, attachment] = mail.parts;
    expect(mail.parts).toHaveLength(2);
    expect(alternative!.headers.get('content-type')).toMatch(/^multipart\/alternative;/);
    const [text, html] = alternative!.parts;
    expect(text!.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(decoded(text!)).toBe('Last seen near the harbour wearing a red coat.\nCall 112.');
    expect(html!.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(decoded(html!)).toBe('<p>Last seen near the harbour wearing a <b>red</b> coat.</p>');

    expect(attachment!.headers.get('content-type')).toBe(
      'application/cap+xml; charset=utf-8; name="alert.cap.xml"',
    );
    expect(attachment!.headers.get('content-disposition')).toBe('attachment; filename="alert.cap.xml"');
    expect(decoded(attachment!)).toBe(CAP);
  });

  it('encodes a subject that is not ASCII as RFC 2047 words that decode back to it', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const subject =
      'ACTUALITZACIÓ: nen desaparegut a Ciutat Vella — 🚨 avís núm. 2, més informació al web de l’agència';
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    await provider.send(message(content({ subject })), live());

    const raw = sentRaw();
    const header = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
    for (const line of header) {
      expect(line).toMatch(/^[\x20-\x7e]*$/);
      expect(line.length).toBeLessThanOrEqual(76);
    }
    expect(header.filter((line) => line.startsWith(' =?UTF-8?B?')).length).toBeGreaterThan(0);
    const encoded = parseMime(raw).headers.get('subject')!;
    for (const word of encoded.split(/\s+/)) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(encoded)).toBe(subject);
  });

  it('threads an update: In-Reply-To is the Message-ID SES gave the previous email, References keep the chain', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });
    const update = content({
      messageId: 'a1.v2@herald.agency.example',
      inReplyTo: '<a1.v1@herald.agency.example>',
      references: ['<a1.v1@herald.agency.example>'],
    });

    await provider.send(message(update, { version: 2, inReplyTo: '0102018f-previous-000000' }), live());

    const headers = parseMime(sentRaw()).headers;
    expect(headers.get('message-id')).toBe('<a1.v2@herald.agency.example>');
    expect(headers.get('in-reply-to')).toBe('<0102018f-previous-000000@eu-west-1.amazonses.com>');
    expect(headers.get('references')!.split(/\s+/)).toEqual([
      '<a1.v1@herald.agency.example>',
      '<0102018f-previous-000000@eu-west-1.amazonses.com>',
    ]);
  });

  it('uses the content’s own threading headers when the previous email’s SES id is not known', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-3' });
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'us-east-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    await provider.send(
      message(
        content({ inReplyTo: 'a1.v1@herald.agency.example', references: ['a1.v1@herald.agency.example'] }),
      ),
      live(),
    );

    const headers = parseMime(sentRaw()).headers;
    expect(headers.get('in-reply-to')).toBe('<a1.v1@herald.agency.example>');
    expect(headers.get('references')).toBe('<a1.v1@herald.agency.example>');
  });

  it('a line break in the subject cannot add a header', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-4' });
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    await provider.send(message(content({ subject: 'Road closed\r\nBcc: everyone@example.org' })), live());

    const headers = parseMime(sentRaw()).headers;
    expect(headers.has('bcc')).toBe(false);
    expect(headers.get('subject')).toBe('Road closed Bcc: everyone@example.org');
  });

  it('refuses an address that could smuggle recipients, without SES and without the address in the logs', async () => {
    const logger = new RecordingLogger();
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
      logger,
    });

    const error = await provider
      .send(message(content(), { recipient: 'desk@media.example, all@media.example' }), live())
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'permanent', reason: 'invalid email address' });
    expect(ses.calls()).toHaveLength(0);
    expect(JSON.stringify(logger.lines)).not.toContain('desk@media');
  });

  it('never sends a Test or Exercise alert to the public', async () => {
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });
    const error = await provider.send(message(content(), { test: true }), live()).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent' });
    expect(ses.calls()).toHaveLength(0);
  });

  it.each([
    [
      'MessageRejected',
      new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }),
      'permanent',
    ],
    [
      'MailFromDomainNotVerifiedException',
      new MailFromDomainNotVerifiedException({ message: 'not verified', ...meta(400) }),
      'permanent',
    ],
    [
      'AccountSuspendedException',
      new AccountSuspendedException({ message: 'suspended', ...meta(400) }),
      'permanent',
    ],
    [
      'TooManyRequestsException',
      new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta(429) }),
      'retryable',
    ],
    [
      'Throttling',
      new SESv2ServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        ...meta(400),
      }),
      'retryable',
    ],
    [
      'a 503',
      new SESv2ServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        message: 'try later',
        ...meta(503),
      }),
      'retryable',
    ],
    [
      'a dropped connection',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'unknown-outcome',
    ],
  ])('classifies %s', async (_, rejection, kind) => {
    ses.on(SendEmailCommand).rejects(rejection);
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    const error = await provider.send(message(), live()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind });
  });

  it('masks an address SES echoes in its refusal', async () => {
    ses.on(SendEmailCommand).rejects(
      new MessageRejected({
        message: 'Email address is not verified: news.desk@media.example',
        ...meta(400),
      }),
    );
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    const error = (await provider.send(message(), live()).catch((e: unknown) => e)) as ProviderError;

    expect(error.reason).toBe('MessageRejected: Email address is not verified: n•••@m•••.example');
  });

  it('an abort while SendEmail is in flight leaves the outcome unknown', async () => {
    let called!: () => void;
    const started = new Promise<void>((resolve) => {
      called = resolve;
    });
    ses.on(SendEmailCommand).callsFake(() => {
      called();
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const provider = createEmailProvider({
      client: new SESv2Client({ region: 'eu-west-1' }),
      from: FROM,
      configurationSet: 'cs',
    });

    const sending = provider.send(message(), controller.signal).catch((e: unknown) => e);
    await started;
    controller.abort(new DOMException('deadline', 'TimeoutError'));

    expect(await sending).toMatchObject({ kind: 'unknown-outcome' });
  });
});

describe('buildMimeMessage', () => {
  it('builds a message without attachments that still parses, with pinned boundaries', () => {
    let n = 0;
    const raw = buildMimeMessage({
      from: 'a@b.example',
      to: 'c@d.example',
      subject: 'Hi',
      text: 'x',
      html: '<p>x</p>',
      attachments: [],
      date: new Date('2030-05-01T10:00:00Z'),
      boundary: () => `b${++n}`,
    });
    const mail = parseMime(raw);
    expect(mail.headers.get('date')).toBe('Wed, 01 May 2030 10:00:00 +0000');
    expect(mail.parts).toHaveLength(1);
    expect(mail.parts[0]!.parts).toHaveLength(2);
  });

  it('leaves printable ASCII as it is, and never cuts a character across two encoded words', () => {
    expect(encodeHeaderValue('Road closed')).toBe('Road closed');
    const value = '🚨'.repeat(40);
    const words = encodeHeaderValue(value).split('\r\n ');
    for (const word of words) {
      const inner = Buffer.from(word.slice('=?UTF-8?B?'.length, -2), 'base64').toString('utf8');
      expect(inner).not.toContain('\uFFFD');
    }
    expect(decodeWords(encodeHeaderValue(value))).toBe(value);
  });
});

/**
 * Email for the media through Amazon SES v2 `SendEmail` with raw content: Herald builds the MIME message itself,
 * because the CAP XML goes along as an attachment and the threading headers must be set, and SES's simple
 * content allows neither.
 *
 * Threading: SES replaces any Message-ID with its own, `<SES message id>@<region>.amazonses.com`
 * (`email.amazonses.com` in us-east-1), so the id the rendered content proposes never reaches a mailbox.
 * When the channel handler knows the SES id of the previous version's email (`message.inReplyTo`), the
 * In-Reply-To and References headers name the Message-ID recipients actually got, which is what mail clients
 * thread on; the content's own ids stay in References so the chain reads the same for every version.
 */
import { randomUUID } from 'node:crypto';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { awsServiceError, reasonOf, sendBefore } from '../../adapters/providers/aws-call';
import {
  type ChannelProvider,
  type EmailAttachment,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { maskEmail } from '../../shared/mask';

export interface EmailProviderOptions {
  client: SESv2Client;
  /** The From header: `alerts@agency.example` or `"Agency alerts" <alerts@agency.example>`, a verified identity. */
  from: string;
  /** The configuration set whose event destination feeds delivery, bounce and complaint events back. */
  configurationSet: string;
  /** Domain of the Message-IDs SES assigns; by default derived from the client's region. */
  messageIdDomain?: string | undefined;
  logger?: LoggerLike | undefined;
}

// ---------------------------------------------------------------- MIME

const CRLF = '\r\n';

/** Header values come from alert text and configuration: a line break in one would start a header of its own. */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * RFC 2047 encoded-words for a header value that is not plain ASCII: base64 of at most 39 UTF-8 bytes per word
 * (64 characters with its delimiters, so even the first, after "Subject: ", keeps its line within the 76 the RFC
 * allows), cut between code points so no word holds half a character, folded one word per line.
 */
export function encodeHeaderValue(value: string): string {
  const clean = oneLine(value);
  if (PRINTABLE_ASCII.test(clean) && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const char of clean) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > 39) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += char;
    bytes += size;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** Base64 in lines of 76 characters, as MIME requires. */
function base64Lines(content: string | Uint8Array): string {
  const encoded = Buffer.from(content).toString('base64');
  return (encoded.match(/.{1,76}/g) ?? []).join(CRLF);
}

/** `<id@host>` from an id with or without its angle brackets; undefined for one that cannot be a msg-id. */
function msgId(id: string): string | undefined {
  const bare = id.trim().replace(/^<|>$/g, '');
  return /^[^\s<>@]+@[^\s<>@]+$/.test(bare) ? `<${bare}>` : undefined;
}

/** A quoted MIME parameter; names outside ASCII use RFC 2231 (`filename*=UTF-8''…`). */
function param(name: string, value: string): string {
  const clean = oneLine(value);
  if (PRINTABLE_ASCII.test(clean)) return `${name}="${clean.replace(/["\\]/g, '')}"`;
  return `${name}*=UTF-8''${encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** RFC 5322 date; SES replaces it with the time it accepted the message, but a message must have one. */
const rfc5322Date = (date: Date) => date.toUTCString().replace(/GMT$/, '+0000');

export interface MimeInput {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments: readonly EmailAttachment[];
  messageId?: string | undefined;
  inReplyTo?: string | undefined;
  references?: readonly string[] | undefined;
  date: Date;
  /** Boundaries must not occur in the parts; random ones cannot, and tests may pin them. */
  boundary?: (() => string) | undefined;
}

/**
 * A multipart/mixed message: a multipart/alternative (plain text, then HTML, so clients show the richer one)
 * followed by the attachments. Every part is UTF-8 in base64: alert text in any script survives any relay.
 */
export function buildMimeMessage(input: MimeInput): string {
  const boundary = input.boundary ?? (() => `=_herald_${randomUUID()}`);
  const mixed = boundary();
  const alternative = boundary();
  const references = [...new Set((input.references ?? []).map(msgId).filter((r) => r !== undefined))];
  const inReplyTo = input.inReplyTo === undefined ? undefined : msgId(input.inReplyTo);
  const messageId = input.messageId === undefined ? undefined : msgId(input.messageId);

  const headers = [
    `From: ${oneLine(input.from)}`,
    `To: ${oneLine(input.to)}`,
    `Subject: ${encodeHeaderValue(input.subject)}`,
    `Date: ${rfc5322Date(input.date)}`,
    ...(messageId ? [`Message-ID: ${messageId}`] : []),
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`] : []),
    ...(references.length > 0 ? [`References: ${references.join(`${CRLF} `)}`] : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed;${CRLF} boundary="${mixed}"`,
  ];
  const textPart = (type: string, body: string) =>
    [`Content-Type: ${type}; charset=utf-8`, 'Content-Transfer-Encoding: base64', '', base64Lines(body)].join(
      CRLF,
    );
  const body = [
    `--${mixed}`,
    `Content-Type: multipart/alternative;${CRLF} boundary="${alternative}"`,
    '',
    `--${alternative}`,
    textPart('text/plain', input.text),
    `--${alternative}`,
    textPart('text/html', input.html),
    `--${alternative}--`,
    ...input.attachments.flatMap((attachment) => [
      `--${mixed}`,
      `Content-Type: ${oneLine(attachment.contentType)};${CRLF} ${param('name', attachment.filename)}`,
      `Content-Disposition: attachment;${CRLF} ${param('filename', attachment.filename)}`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(attachment.content),
    ]),
    `--${mixed}--`,
    '',
  ];
  return [...headers, '', ...body].join(CRLF);
}

// ---------------------------------------------------------------- errors

const PERMANENT_SES = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'NotFoundException',
  'BadRequestException',
]);

const RETRYABLE_SES = new Set([
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  // A sending quota that resets: waiting helps, a person need not act.
  'LimitExceededException',
  'InternalServiceErrorException',
  'ServiceUnavailable',
]);

/** Classifies an SES failure; after SendEmail was called, an error SES did not answer with is an unknown outcome. */
export function classifySesError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const aws = awsServiceError(error);
  if (!aws) {
    const what = error instanceof Error ? error.name : 'error';
    return new ProviderError('unknown-outcome', `SES did not answer (${what}); the email may have been sent`);
  }
  if (PERMANENT_SES.has(aws.name)) return new ProviderError('permanent', reasonOf(aws));
  if (RETRYABLE_SES.has(aws.name) || aws.throttling || aws.fault === 'server' || (aws.status ?? 0) >= 500)
    return new ProviderError('retryable', reasonOf(aws));
  return new ProviderError(aws.fault === 'client' ? 'permanent' : 'retryable', reasonOf(aws));
}

// ---------------------------------------------------------------- provider

/** A bare address a header can carry: no display name, nothing that could end the header or add a recipient. */
const ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+\.[^\s@<>,;:"()[\]\\]+$/;

export function createEmailProvider(options: EmailProviderOptions): ChannelProvider {
  const { client, from, configurationSet, logger } = options;
  if (/[\r\n]/.test(from)) throw new Error('the From address must be one line');
  let domain: Promise<string> | undefined;
  const messageIdDomain = () => {
    domain ??= options.messageIdDomain
      ? Promise.resolve(options.messageIdDomain)
      : client.config
          .region()
          .then((region) => (region === 'us-east-1' ? 'email.amazonses.com' : `${region}.amazonses.com`));
    return domain;
  };

  async function send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
    if (message.test)
      throw new ProviderError('permanent', 'a Test or Exercise alert must not reach the public by email');
    const content = message.content;
    if (content.channel !== 'email')
      throw new ProviderError('permanent', `the email provider got ${content.channel} content`);
    const to = message.recipient.trim();
    const masked = maskEmail(to);
    if (!ADDRESS.test(to)) {
      logger?.warn('email recipient is not a valid address', { recipient: masked });
      throw new ProviderError('permanent', 'invalid email address');
    }

    let inReplyTo = content.inReplyTo;
    const references = [...(content.references ?? [])];
    if (message.inReplyTo) {
      const previous = `${message.inReplyTo}@${await messageIdDomain()}`;
      inReplyTo = previous;
      references.push(previous);
    }
    const raw = buildMimeMessage({
      from,
      to,
      subject: content.subject,
      text: content.text,
      html: content.html,
      attachments: content.attachments,
      messageId: content.messageId,
      inReplyTo,
      references,
      date: new Date(),
    });

    if (signal.aborted) throw new ProviderError('retryable', 'the deadline passed before the email was sent');
    try {
      const { MessageId } = await sendBefore(signal, (abortSignal) =>
        client.send(
          new SendEmailCommand({
            FromEmailAddress: from,
            Destination: { ToAddresses: [to] },
            Content: { Raw: { Data: Buffer.from(raw, 'utf8') } },
            ConfigurationSetName: configurationSet,
          }),
          { abortSignal },
        ),
      );
      if (!MessageId)
        throw new ProviderError('unknown-outcome', 'SES accepted the email without returning its id');
      return { providerMessageId: MessageId };
    } catch (error) {
      const failure = classifySesError(error);
      if (failure.kind === 'permanent')
        logger?.warn('SES refused the email', { recipient: masked, reason: failure.reason });
      throw failure;
    }
  }

  return { channel: 'email', mode: 'real', send };
}

/**
 * POST /v1/alerts/preview: what each named channel would carry, without storing anything. The renderers
 * here are the plain ones every channel starts from; channel-specific budgets refine them.
 */
import { AlertDraft, type Channel } from '../../schemas/alert';
import { normaliseDraft } from '../core/alerts';
import { CHARACTER_BUDGET, renderText } from '../core/render';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, json, parseWith, readBodyObject } from './http';

interface ChannelPreview {
  language: string;
  text: string;
  characters: number;
  budget?: number;
  fits: boolean;
  warnings: string[];
}

export async function previewAlert(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const draft = parseWith(AlertDraft, readBodyObject(event));
  const content = normaliseDraft(draft);
  const languages = [
    { language: content.language, content },
    ...content.translations.map((t) => ({ language: t.language, content: { ...content, ...t } })),
  ];
  const channels: Partial<Record<Channel, ChannelPreview[]>> = {};
  for (const channel of content.channels) {
    channels[channel] = languages.map(({ language, content: c }) => {
      const untruncated = renderText({ msgType: 'Alert', content: c }, 'email');
      const text = renderText({ msgType: 'Alert', content: c }, channel);
      const budget = CHARACTER_BUDGET[channel];
      const warnings: string[] = [];
      if (text !== untruncated)
        warnings.push(`shortened to fit ${budget} characters; the full text is at the link`);
      if (channel === 'instagram' && !c.image)
        warnings.push('Instagram needs an image; an alert card will be generated');
      if (draft.status !== 'Actual')
        warnings.push(`status ${draft.status}: goes to the sandbox and test recipients only`);
      return {
        language,
        text,
        characters: Array.from(text).length,
        ...(budget ? { budget } : {}),
        fits: budget === undefined || Array.from(text).length <= budget,
        warnings,
      };
    });
  }
  const approvalRequired = deps.config.approvalSeverities.has(draft.severity);
  return json(200, { channels, approvalRequired });
}

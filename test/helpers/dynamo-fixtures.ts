/** Domain objects for the DynamoDB adapter's tests: valid by default, overridable field by field. */
import { randomUUID } from 'node:crypto';
import type { AlertHead, StoredVersion } from '../../functions/core/model';

export const newAlertId = (): string => `alert-${randomUUID()}`;

export function version(alertId: string, n: number, overrides: Partial<StoredVersion> = {}): StoredVersion {
  const at = '2030-05-01T10:00:00.000Z';
  return {
    alertId,
    version: n,
    msgType: n === 1 ? 'Alert' : 'Update',
    content: {
      status: 'Actual',
      category: 'Safety',
      event: 'Missing person',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Observed',
      headline: `Missing child, version ${n}`,
      description: 'Last seen near the harbour wearing a red coat.',
      instruction: undefined,
      language: 'en',
      translations: [
        { language: 'ca', headline: 'Nen desaparegut', description: 'Vist per última vegada al port.' },
      ],
      areas: [{ zone: 'ciutat-vella', areaDesc: 'Ciutat Vella' }],
      channels: ['x', 'sms'],
    },
    identifier: `urn:herald:${alertId}:${n}`,
    sent: '2030-05-01T12:00:00+02:00',
    sender: 'alerts@herald.example',
    references: [],
    author: 'officer-1',
    createdAt: at,
    approval: { required: false },
    dispatchStatus: 'pending',
    releasedAt: at,
    ...overrides,
  };
}

export function head(alertId: string, overrides: Partial<AlertHead> = {}): AlertHead {
  return {
    alertId,
    createdAt: '2030-05-01T10:00:00.000Z',
    updatedAt: '2030-05-01T10:00:00.000Z',
    latestVersion: 1,
    author: 'officer-1',
    ...overrides,
  };
}

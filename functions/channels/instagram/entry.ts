/**
 * Lambda entry point of the instagram channel: its credentials read from Secrets Manager, and alert cards stored in
 * S3 behind the CDN. The S3 client loads when the first card is stored, not when the function starts: most alerts
 * carry an image of their own.
 */

import { channelSecrets } from '../../channel/aws-secrets';
import { cardImageMaker } from '../../channel/card-image';
import { channelLambda } from '../../channel/handler';
import type { ImageStore } from '../../ports';
import { requiredEnv } from '../../shared/aws-env';
import { ENV } from '../../shared/config';
import { instagramFactory } from './provider';
import { instagramRenderer } from './render';

/** The card store in S3, made on the first card. */
function s3Images(): ImageStore {
  const bucket = requiredEnv(ENV.imageBucket);
  const publicBaseUrl = requiredEnv(ENV.imageBaseUrl);
  let store: Promise<ImageStore> | undefined;
  const open = async (): Promise<ImageStore> => {
    const [{ S3Client }, { S3ImageStore }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('../../adapters/images/s3'),
    ]);
    return new S3ImageStore({ client: new S3Client({}), bucket, publicBaseUrl });
  };
  return {
    put: async (key, bytes, contentType) => {
      store ??= open().catch((error: unknown) => {
        store = undefined;
        throw error;
      });
      return (await store).put(key, bytes, contentType);
    },
  };
}

export const handler = channelLambda(
  'instagram',
  instagramRenderer,
  (o) => instagramFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  {
    secrets: channelSecrets,
    cardImage: (services) => cardImageMaker(s3Images(), services.config.agencyName),
  },
);

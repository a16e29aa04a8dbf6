/** Lambda entry point of the instagram channel: with alert cards, stored in S3 behind the CDN. */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ImageStore } from '../../adapters/images/s3';
import { cardImageMaker } from '../../channel/card-image';
import { channelLambda } from '../../channel/handler';
import { ENV } from '../../shared/config';
import { instagramFactory } from './provider';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export const handler = channelLambda(
  'instagram',
  (o) => instagramFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  {
    cardImage: (services) =>
      cardImageMaker(
        new S3ImageStore({
          client: new S3Client({}),
          bucket: required(ENV.imageBucket),
          publicBaseUrl: required(ENV.imageBaseUrl),
        }),
        services.config.agencyName,
      ),
  },
);

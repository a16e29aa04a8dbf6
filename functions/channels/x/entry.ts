/** Lambda entry point of the x channel. */
import { channelLambda } from '../../channel/handler';
import { xFactory } from './provider';

export const handler = channelLambda('x', (o) => xFactory({ ...o, awsAccess: 'role', allowLoopback: false }));

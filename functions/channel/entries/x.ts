/** Lambda entry point of the x channel. */
import { channelLambda } from '../handler';
import { xFactory } from '../providers/x';

export const handler = channelLambda('x', (o) => xFactory({ ...o, awsAccess: 'role', allowLoopback: false }));

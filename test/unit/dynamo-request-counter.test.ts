import { Readable } from 'node:stream';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { countRequests } from '../../functions/adapters/request-counter';

/** Answers every request without a network: status codes to play, then 200 with an empty JSON body. */
function fakeHandler(statuses: number[] = []) {
  return {
    handle: async () => {
      const statusCode = statuses.shift() ?? 200;
      return {
        response: {
          statusCode,
          reason: '',
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Readable.from([Buffer.from(statusCode === 200 ? '{}' : '{"__type":"InternalServerError"}')]),
        },
      };
    },
  };
}

const creds = { accessKeyId: 'x', secretAccessKey: 'x' };

describe('countRequests', () => {
  it('counts a DynamoDB client by operation, and resets', async () => {
    const client = new DynamoDBClient({ region: 'local', credentials: creds, requestHandler: fakeHandler() });
    const counter = countRequests(client);
    await client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }));
    await client.send(new PutItemCommand({ TableName: 't', Item: { PK: { S: 'a' } } }));
    await client.send(new PutItemCommand({ TableName: 't', Item: { PK: { S: 'b' } } }));
    expect(counter.byCommand()).toEqual({ GetItem: 1, PutItem: 2 });
    expect(counter.total()).toBe(3);
    counter.reset();
    expect(counter.total()).toBe(0);
    await client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }));
    expect(counter.byCommand()).toEqual({ GetItem: 1 });
  });

  it('counts a document client under the underlying operation names', async () => {
    const base = new DynamoDBClient({ region: 'local', credentials: creds, requestHandler: fakeHandler() });
    const client = DynamoDBDocumentClient.from(base);
    const counter = countRequests(client);
    await client.send(new GetCommand({ TableName: 't', Key: { PK: 'a' } }));
    await client.send(
      new QueryCommand({
        TableName: 't',
        KeyConditionExpression: 'PK = :p',
        ExpressionAttributeValues: { ':p': 'a' },
      }),
    );
    expect(counter.byCommand()).toEqual({ GetItem: 1, Query: 1 });
  });

  it('counts each attempt of a request the SDK retries', async () => {
    const client = new DynamoDBClient({
      region: 'local',
      credentials: creds,
      maxAttempts: 3,
      requestHandler: fakeHandler([500, 500]),
    });
    const counter = countRequests(client);
    await client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }));
    expect(counter.byCommand()).toEqual({ GetItem: 3 });
  });

  it('works on other SDK clients, and two counters on one client both count', async () => {
    const client = new SQSClient({
      region: 'local',
      endpoint: 'http://127.0.0.1:9',
      credentials: creds,
      requestHandler: fakeHandler(),
    });
    const a = countRequests(client);
    const b = countRequests(client);
    await client.send(new ListQueuesCommand({}));
    expect(a.byCommand()).toEqual({ ListQueues: 1 });
    expect(b.total()).toBe(1);
  });
});

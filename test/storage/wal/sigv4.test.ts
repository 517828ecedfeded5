import assert from 'node:assert/strict';
import { test } from 'node:test';
import { amzDate, sigV4Authorization } from '../../../src/storage/keys/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

test('SigV4 matches the AWS test suite\'s get-vanilla vector', () => {
  const authorization = sigV4Authorization({
    method: 'GET', path: '/', headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' }, body: '',
    region: 'us-east-1', service: 'service', credentials, amzDate: '20150830T123600Z',
  });
  assert.equal(authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

test('SigV4 signs the body and every header: changing either changes the signature', () => {
  const base = { method: 'POST', path: '/', headers: { host: 'kms.eu-west-1.amazonaws.com', 'x-amz-date': '20261202T120000Z', 'x-amz-target': 'TrentService.Decrypt' }, body: '{}', region: 'eu-west-1', service: 'kms', credentials, amzDate: '20261202T120000Z' };
  const signature = (input: typeof base) => sigV4Authorization(input).split('Signature=')[1];
  assert.notEqual(signature({ ...base, body: '{"a":1}' }), signature(base));
  assert.notEqual(signature({ ...base, headers: { ...base.headers, 'x-amz-target': 'TrentService.GenerateDataKey' } }), signature(base));
  assert.equal(amzDate(new Date('2015-08-30T12:36:00.123Z')), '20150830T123600Z');
});

// CI's drift check of the generated client types: regenerating from the gateway's route
// registry must give exactly the committed libs/client/src/api.generated.ts.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GENERATED_CLIENT_TYPES, generateClientTypes } from './client-generate';

it('libs/client/src/api.generated.ts matches the OpenAPI document (npm run client:generate)', async () => {
  const committed = readFileSync(GENERATED_CLIENT_TYPES, 'utf8');
  const generated = await generateClientTypes();
  assert.ok(generated.includes("'/v1/sync/push'"), 'the document lists the sync routes');
  assert.equal(committed, generated, 'out of date: run `npm run client:generate` and commit it');
});

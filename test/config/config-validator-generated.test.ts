import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENERATED_VALIDATOR, configValidatorSource } from '../../scripts/dev/generate-config-validator';

describe('the config validator compiled ahead of time', () => {
  it('is current with agent/config/schema.ts (else: npm run generate:config-validator)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', GENERATED_VALIDATOR), 'utf8');
    expect(committed === configValidatorSource()).toBe(true);
  });
});

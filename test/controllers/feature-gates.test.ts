import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFeatureGates } from '../../src/controllers/feature-gates.js';

describe('--feature-gates', () => {
  it('defaults as 1.32 and takes Name=bool pairs', () => {
    assert.deepEqual(parseFeatureGates(''), { MaxUnavailableStatefulSet: false });
    assert.deepEqual(parseFeatureGates('MaxUnavailableStatefulSet=true'), { MaxUnavailableStatefulSet: true });
    assert.deepEqual(parseFeatureGates(' MaxUnavailableStatefulSet = TRUE ,'), { MaxUnavailableStatefulSet: true });
  });

  it('refuses unknown gates and non-booleans with kcm wording', () => {
    assert.throws(() => parseFeatureGates('NoSuchGate=true'), /^Error: unrecognized feature gate: NoSuchGate$/);
    assert.throws(() => parseFeatureGates('MaxUnavailableStatefulSet=yes'), /invalid value of MaxUnavailableStatefulSet=yes/);
  });
});

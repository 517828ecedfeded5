/** Small helpers several plugins share (upstream's plugins/helper). */
import { MAX_NODE_SCORE } from '../types.js';

/**
 * Scales scores to 0…100 by the highest one; `reverse` turns "more is worse" counts into scores
 * (upstream's DefaultNormalizeScore).
 */
export function defaultNormalizeScore(scores: number[], reverse: boolean, maxScore = MAX_NODE_SCORE): void {
  let max = 0;
  for (const score of scores) if (score > max) max = score;
  if (max === 0) {
    if (reverse) scores.fill(maxScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const scaled = Math.trunc((maxScore * scores[i]) / max);
    scores[i] = reverse ? maxScore - scaled : scaled;
  }
}

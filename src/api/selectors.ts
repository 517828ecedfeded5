/**
 * Label and field selectors, parsed once per request into matchers.
 * Grammar follows k8s.io/apimachinery/pkg/labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, comma-separated (logical AND).
 */
import { errors } from './status.js';

export type LabelRequirement =
  | { key: string; op: 'in'; values: string[] }
  | { key: string; op: 'notin'; values: string[] }
  | { key: string; op: 'exists' }
  | { key: string; op: 'doesnotexist' }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function parseLabelSelector(text: string): LabelSelector {
  const requirements: LabelSelector = [];
  let rest = text.trim();
  while (rest.length > 0) {
    let match: RegExpMatchArray | null;
    if ((match = rest.match(/^!\s*([^\s,!=()]+)\s*(,|$)/))) {
      requirements.push({ key: checkKey(match[1], text), op: 'doesnotexist' });
    } else if ((match = rest.match(/^([^\s,!=()<>]+)\s+(in|notin)\s*\(([^)]*)\)\s*(,|$)/))) {
      const values = match[3].split(',').map((v) => checkValue(v.trim(), text));
      requirements.push({ key: checkKey(match[1], text), op: match[2] as 'in' | 'notin', values });
    } else if ((match = rest.match(/^([^\s,!=()<>]+)\s*(==|=|!=)\s*([^\s,]*)\s*(,|$)/))) {
      const value = checkValue(match[3], text);
      requirements.push({ key: checkKey(match[1], text), op: match[2] === '!=' ? 'notin' : 'in', values: [value] });
    } else if ((match = rest.match(/^([^\s,!=()<>]+)\s*(<|>)\s*(-?\d+)\s*(,|$)/))) {
      requirements.push({ key: checkKey(match[1], text), op: match[2] === '>' ? 'gt' : 'lt', value: Number(match[3]) });
    } else if ((match = rest.match(/^([^\s,!=()<>]+)\s*(,|$)/))) {
      requirements.push({ key: checkKey(match[1], text), op: 'exists' });
    } else {
      throw errors.badRequest(`unable to parse requirement: found '${rest}', expected a label requirement in selector ${JSON.stringify(text)}`);
    }
    rest = rest.slice(match[0].length).trim();
  }
  return requirements;
}

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw errors.badRequest(`invalid label key ${JSON.stringify(key)} in selector ${JSON.stringify(selector)}`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (value.length > 63 || !VALUE.test(value)) {
    throw errors.badRequest(`invalid label value: ${JSON.stringify(value)} in selector ${JSON.stringify(selector)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`);
  }
  return value;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    switch (req.op) {
      case 'in':
        if (value === undefined || !req.values.includes(value)) return false;
        break;
      case 'notin':
        if (value !== undefined && req.values.includes(value)) return false;
        break;
      case 'exists':
        if (value === undefined) return false;
        break;
      case 'doesnotexist':
        if (value !== undefined) return false;
        break;
      case 'gt':
      case 'lt': {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const n = Number(value);
        if (req.op === 'gt' ? !(n > req.value) : !(n < req.value)) return false;
      }
    }
  }
  return true;
}

/** The structured `metav1.LabelSelector` (matchLabels + matchExpressions) as used inside specs. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function selectorFromSpec(spec: LabelSelectorSpec | undefined): LabelSelector {
  const requirements: LabelSelector = [];
  for (const [key, value] of Object.entries(spec?.matchLabels ?? {})) requirements.push({ key, op: 'in', values: [value] });
  for (const expr of spec?.matchExpressions ?? []) {
    const op = expr.operator.toLowerCase();
    if (op === 'in' || op === 'notin') requirements.push({ key: expr.key, op, values: expr.values ?? [] });
    else if (op === 'exists') requirements.push({ key: expr.key, op: 'exists' });
    else if (op === 'doesnotexist') requirements.push({ key: expr.key, op: 'doesnotexist' });
  }
  return requirements;
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  const requirements: FieldRequirement[] = [];
  for (const part of splitUnescaped(text)) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const match = trimmed.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!match) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${trimmed}'`);
    requirements.push({ field: match[1].trim(), op: match[2] === '!=' ? '!=' : '=', value: unescapeFieldValue(match[3]) });
  }
  return requirements;
}

function splitUnescaped(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      current += text[i] + text[i + 1];
      i++;
    } else if (text[i] === ',') {
      parts.push(current);
      current = '';
    } else current += text[i];
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export function matchesFields(requirements: FieldRequirement[], fields: (field: string) => string | undefined): boolean {
  for (const req of requirements) {
    const value = fields(req.field) ?? '';
    if (req.op === '=' ? value !== req.value : value === req.value) return false;
  }
  return true;
}

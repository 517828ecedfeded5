/**
 * The CEL environment Kubernetes expressions run in: @bufbuild/cel (conformance-tested against
 * cel-spec, RE2 regular expressions) with the strings extension and Kubernetes' own libraries
 * — lists (isSorted, sum, min, max, indexOf, lastIndexOf) and URLs (url, isURL and the URL
 * accessors). Values are plain CEL (ints as bigint, doubles as number).
 */
import { celEnv, celFunc, celMethod, CelScalar, listType, isCelList, isCelMap, type CelEnv, type CelList, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { re2 } from '../api/re2.js';

const { BOOL, INT, STRING, DYN } = CelScalar;
const DYN_LIST = listType(DYN);

function compare(a: CelValue, b: CelValue): number {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`no such overload: comparing ${typeof a} with ${typeof b}`);
}

function elements(list: CelList): CelValue[] {
  return [...list];
}

function equal(a: CelValue, b: CelValue): boolean {
  if (typeof a === 'bigint' || typeof a === 'number') return (typeof b === 'bigint' || typeof b === 'number') && Number(a) === Number(b);
  if (isCelList(a) && isCelList(b)) return a.size === b.size && elements(a).every((item, i) => equal(item, b.get(i)!));
  if (isCelMap(a) && isCelMap(b)) return a.size === b.size && [...a.entries()].every(([k, v]) => b.has(k) && equal(v, b.get(k)!));
  return a === b;
}

const listFunctions = [
  celMethod('isSorted', DYN_LIST, [], BOOL, function () {
    const items = elements(this);
    return items.every((item, i) => i === 0 || compare(items[i - 1], item) <= 0);
  }),
  celMethod('sum', DYN_LIST, [], DYN, function () {
    const items = elements(this);
    if (items.length === 0) return 0n;
    if (items.every((item) => typeof item === 'bigint')) return (items as bigint[]).reduce((a, b) => a + b, 0n);
    return items.reduce<number>((a, b) => a + Number(b), 0);
  }),
  celMethod('min', DYN_LIST, [], DYN, function () {
    const items = elements(this);
    if (items.length === 0) throw new Error('min called on empty list');
    return items.reduce((a, b) => (compare(b, a) < 0 ? b : a)) as never;
  }),
  celMethod('max', DYN_LIST, [], DYN, function () {
    const items = elements(this);
    if (items.length === 0) throw new Error('max called on empty list');
    return items.reduce((a, b) => (compare(b, a) > 0 ? b : a)) as never;
  }),
  celMethod('indexOf', DYN_LIST, [DYN], INT, function (value) {
    return BigInt(elements(this).findIndex((item) => equal(item, value)));
  }),
  celMethod('lastIndexOf', DYN_LIST, [DYN], INT, function (value) {
    const items = elements(this);
    for (let i = items.length - 1; i >= 0; i--) if (equal(items[i], value)) return BigInt(i);
    return -1n;
  }),
];

/** Kubernetes' URL library over WHATWG URL parsing; a URL value is carried as its text. */
function parseUrl(text: string): URL {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text) && !text.startsWith('/')) throw new Error(`URL parse error during conversion from string: parse "${text}": invalid URI for request`);
  return new URL(text, text.startsWith('/') ? 'http://relative.invalid' : undefined);
}

const urlFunctions = [
  celFunc('isURL', [STRING], BOOL, (text) => {
    try {
      parseUrl(text);
      return true;
    } catch {
      return false;
    }
  }),
  celFunc('url', [STRING], STRING, (text) => (parseUrl(text), text)),
  celMethod('getScheme', STRING, [], STRING, function () {
    return this.startsWith('/') ? '' : parseUrl(this).protocol.replace(/:$/, '');
  }),
  celMethod('getHost', STRING, [], STRING, function () {
    return this.startsWith('/') ? '' : parseUrl(this).host;
  }),
  celMethod('getHostname', STRING, [], STRING, function () {
    return this.startsWith('/') ? '' : parseUrl(this).hostname.replace(/^\[|\]$/g, '');
  }),
  celMethod('getPort', STRING, [], STRING, function () {
    return this.startsWith('/') ? '' : parseUrl(this).port;
  }),
  celMethod('getEscapedPath', STRING, [], STRING, function () {
    return parseUrl(this).pathname;
  }),
];

let shared: CelEnv | undefined;

/** The one environment every Kubernetes expression is planned in (variables are bound per call). */
export function kubernetesCelEnv(): CelEnv {
  shared ??= celEnv({ funcs: [...strings, ...listFunctions, ...urlFunctions], re2: { compile: (pattern) => re2(pattern) } });
  return shared;
}

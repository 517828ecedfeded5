/** core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlice: the addresses behind a Service. */
import { isIPv4, isIPv6 } from 'node:net';
import { fieldErrors, type FieldError } from '../api/status.js';
import { isPlainObject } from '../api/object.js';
import type { KindStrategy, Obj } from './strategy.js';
import { ageColumn, listWithMore } from './common/printing.js';
import { dns1123LabelErrors, dns1123SubdomainErrors, immutable, tooMany, validateOneOf, validatePort } from './common/validation.js';
import { isIp } from './common/network.js';
import { listAt, valuesAt, type Fields } from './common/fields.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];
const MAX_SLICE_ENDPOINTS = 1000;
const MAX_SLICE_ADDRESSES = 100;
const MAX_SLICE_PORTS = 100;

function defaultProtocols(ports: Fields[]): void {
  for (const port of ports) if (isPlainObject(port)) port.protocol ??= 'TCP';
}

function validatePortName(name: unknown, field: string, required: boolean): FieldError[] {
  if (name === undefined || name === '') return required ? [fieldErrors.required(field)] : [];
  if (typeof name !== 'string') return [fieldErrors.typeInvalid(field, name, 'must be a string')];
  return dns1123LabelErrors(name).map((p) => fieldErrors.invalid(field, name, p));
}

function validateSubsets(endpoints: Obj): FieldError[] {
  const errs: FieldError[] = [];
  listAt(endpoints, 'subsets').forEach((subset, i) => {
    const field = `subsets[${i}]`;
    for (const key of ['addresses', 'notReadyAddresses']) {
      listAt(subset, key).forEach((address, j) => {
        if (!isIp(address?.ip)) errs.push(fieldErrors.invalid(`${field}.${key}[${j}].ip`, address?.ip ?? '', 'must be a valid IP address'));
      });
    }
    const ports = listAt(subset, 'ports');
    ports.forEach((port, j) => {
      const pf = `${field}.ports[${j}]`;
      errs.push(...validatePortName(port?.name, `${pf}.name`, ports.length > 1));
      errs.push(...validatePort(port?.port, `${pf}.port`));
      errs.push(...validateOneOf(port?.protocol, `${pf}.protocol`, PROTOCOLS, true));
    });
  });
  return errs;
}

/** "10.0.0.1:80,10.0.0.2:80 + 3 more..." (upstream formatEndpoints). */
function formatEndpoints(endpoints: Obj): string {
  const subsets = listAt(endpoints, 'subsets');
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = listAt(subset, 'addresses').map((a) => String(a.ip));
    const ports = listAt(subset, 'ports');
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addresses.length;
      shown.push(...addresses);
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const ip of addresses) shown.push(ip.includes(':') ? `[${ip}]:${port.port}` : `${ip}:${port.port}`);
    }
  }
  return listWithMore(shown, count, 3, '');
}

export const endpoints: KindStrategy = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,

  defaults(object) {
    for (const subset of listAt(object, 'subsets')) defaultProtocols(listAt(subset, 'ports'));
  },
  validate: (object) => validateSubsets(object),

  columns: [{ name: 'Endpoints', type: 'string', description: 'The set of all endpoints is the union of all subsets.', cell: formatEndpoints }, ageColumn],
};

function addressErrors(address: unknown, addressType: string): string[] {
  if (typeof address !== 'string') return ['must be a string'];
  if (addressType === 'IPv4') return isIPv4(address) ? [] : ['must be a valid IPv4 address'];
  if (addressType === 'IPv6') return isIPv6(address) ? [] : ['must be a valid IPv6 address'];
  return dns1123SubdomainErrors(address);
}

function validateSlice(slice: Obj, old?: Obj): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateOneOf(slice.addressType, 'addressType', ADDRESS_TYPES, true));
  const endpointList = listAt(slice, 'endpoints');
  if (endpointList.length > MAX_SLICE_ENDPOINTS) errs.push(tooMany('endpoints', endpointList.length, MAX_SLICE_ENDPOINTS));
  endpointList.forEach((endpoint, i) => {
    const addresses = valuesAt(endpoint, 'addresses');
    const field = `endpoints[${i}].addresses`;
    if (addresses.length === 0) errs.push(fieldErrors.required(field, 'must contain at least 1 address'));
    else if (addresses.length > MAX_SLICE_ADDRESSES) errs.push(tooMany(field, addresses.length, MAX_SLICE_ADDRESSES));
    addresses.forEach((address, j) => {
      for (const p of addressErrors(address, slice.addressType)) errs.push(fieldErrors.invalid(`${field}[${j}]`, address, p));
    });
  });
  const ports = listAt(slice, 'ports');
  if (ports.length > MAX_SLICE_PORTS) errs.push(tooMany('ports', ports.length, MAX_SLICE_PORTS));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    errs.push(...validatePortName(port?.name, `ports[${i}].name`, false));
    if (names.has(port?.name ?? '')) errs.push(fieldErrors.duplicate(`ports[${i}].name`, port?.name ?? ''));
    names.add(port?.name ?? '');
    if (port?.port !== undefined && port.port !== null) errs.push(...validatePort(port.port, `ports[${i}].port`));
    errs.push(...validateOneOf(port?.protocol, `ports[${i}].protocol`, PROTOCOLS, true));
  });
  if (old) errs.push(...immutable('addressType', slice.addressType, old.addressType));
  return errs;
}

function slicePorts(slice: Obj): string {
  const ports = listAt(slice, 'ports');
  const shown = ports.map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name || '*'));
  return listWithMore(shown, ports.length);
}

function sliceEndpoints(slice: Obj): string {
  const addresses = listAt(slice, 'endpoints').flatMap((e) => valuesAt(e, 'addresses').map(String));
  return listWithMore(addresses, addresses.length);
}

export const endpointSlices: KindStrategy = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  generation: true,

  defaults(slice) {
    for (const port of listAt(slice, 'ports')) {
      if (!isPlainObject(port)) continue;
      port.name ??= '';
      port.protocol ??= 'TCP';
    }
  },
  validate: (slice, old) => validateSlice(slice, old),

  columns: [
    { name: 'AddressType', type: 'string', description: 'addressType specifies the type of address carried by this EndpointSlice.', cell: (s) => s.addressType ?? '' },
    { name: 'Ports', type: 'string', description: 'ports specifies the list of network ports exposed by each endpoint in this slice.', cell: slicePorts },
    { name: 'Endpoints', type: 'string', description: 'endpoints is a list of unique endpoints in this slice.', cell: sliceEndpoints },
    ageColumn,
  ],
};
